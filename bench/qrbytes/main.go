// Command qrbytes prints, as JSON lines, the bytes enroll sends to the
// terminal for one QR code of the link given as its argument: the modules
// encoded by github.com/skip2/go-qrcode (level M) with the standard quiet
// zone of 4 modules, drawn
//
//   - in half blocks (kind "qr"), two modules a character row, the same
//     technique as `qrencode -t UTF8`, as the wizard draws it at 80×24;
//   - in background colour only (kind "qr_bg"), two cells and one row a
//     module, the same technique as `qrencode -t ANSI`, as the wizard draws
//     it where there is room, and on the Linux console.
//
// bench/run compares them with qrencode's output for the same link.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"enroll/qr"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: qrbytes LINK")
		os.Exit(2)
	}
	for _, c := range []struct {
		kind   string
		format qr.Format
	}{{"qr", qr.FormatSmall}, {"qr_bg", qr.FormatBG}} {
		code, err := qr.Render(os.Args[1], c.format, 0, 0, false)
		if err != nil {
			fmt.Fprintln(os.Stderr, "qrbytes:", err)
			os.Exit(1)
		}
		modules := code.Height - 8 // one row a module
		if c.format == qr.FormatSmall {
			modules = code.Width - 8
		}
		out, _ := json.Marshal(map[string]any{
			"kind":    c.kind,
			"encoder": "github.com/skip2/go-qrcode",
			"format":  code.Format,
			"width":   code.Width,
			"height":  code.Height,
			"modules": modules,
			"bytes":   len(code.Text) + 1, // printed like qrencode's: every line ends in "\n"
		})
		fmt.Println(string(out))
	}
}
