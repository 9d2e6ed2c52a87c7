// Command qrbytes prints, as JSON, the bytes enroll sends to the terminal
// for one QR code of the link given as its argument: the modules encoded by
// github.com/skip2/go-qrcode (level M), drawn in half blocks (two modules a
// character row, the same technique as `qrencode -t UTF8`) with the
// standard quiet zone of 4 modules, as the wizard draws it where it has
// room. bench/run compares it with qrencode's output for the same link.
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
	code, err := qr.Render(os.Args[1], qr.FormatSmall, 0, 0, false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "qrbytes:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(map[string]any{
		"kind":    "qr",
		"encoder": "github.com/skip2/go-qrcode",
		"format":  code.Format,
		"width":   code.Width,
		"height":  code.Height,
		"modules": code.Width - 8,
		"bytes":   len(code.Text) + 1, // printed like qrencode's: every line ends in "\n"
	})
	fmt.Println(string(out))
}
