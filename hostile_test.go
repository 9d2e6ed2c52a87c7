package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"

	"enroll/api"
	"enroll/api/emulator"
	"enroll/qr"
	"enroll/qr/handoff"
	"enroll/tui"
)

// Hostile input: every kind of text that must never act on a terminal,
// from every outside source, to every output. fx.finish (and wiz.check for
// the wizard's frames) fails on any ESC, other C0 control but newline and
// tab, C1 control (U+0080–U+009F), format character (bidi overrides,
// isolates, zero-width), line separator or invalid UTF-8 in what was
// printed; flow.Sanitize is the one function that makes outside text
// inert, and these tests prove every path goes through it.

var hostileTexts = []struct{ name, text string }{
	{"CSI clear screen", "\x1b[2J\x1b[H"},
	{"OSC title and clipboard", "\x1b]0;owned\x07\x1b]52;c;cHduZWQ=\x1b\\"},
	{"C1 CSI and NEL", "\u009b31m\u0085"},
	{"raw C1 byte", "\x9b31m"},
	{"bidi override", "\u202etxt.exe"},
	{"bidi isolate", "\u2066evil\u2069"},
	{"zero-width", "a\u200bb\u200dc\ufeff"},
	{"invalid UTF-8", "\xff\xfe\xc3("},
	{"NUL", "a\x00b"},
	{"carriage return", "ok\rFAIL"},
	{"line separator", "a\u2028b"},
	{"very long line", strings.Repeat("W", 100_000)},
}

// hostileCLI are the sources a command-line run reads; each runs enroll
// with h planted and leaves the checking to fx.finish.
var hostileCLI = []struct {
	name string
	run  func(t *testing.T, x *fx, h string)
}{
	// Sources whose name says "server" are the service's text, which is
	// also capped in length; the others are the operator's own values.
	{"server: accept error body (JSON) → stderr, --json, --verbose", func(t *testing.T, x *fx, h string) {
		inv := x.svc.invite(emulator.InvitationSpec{})
		msg, _ := json.Marshal("refused: " + h)
		x.svc.emu.FailNext(emulator.OpAccept, emulator.Fault{Status: 400, Body: `{"code":"bad` + h + `","message":` + string(msg) + `}`})
		x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-", "--json")
	}},
	{"server: accept error body (text) → stderr", func(t *testing.T, x *fx, h string) {
		inv := x.svc.invite(emulator.InvitationSpec{})
		x.svc.emu.FailNext(emulator.OpAccept, emulator.Fault{Status: 503, Body: "busy " + h + "\nsecond line"})
		x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-")
	}},
	{"server: token endpoint error → status --verify", func(t *testing.T, x *fx, h string) {
		x.enroll()
		body, _ := json.Marshal(map[string]string{"error": "invalid_client" + h, "error_description": h})
		for range 2 {
			x.svc.emu.FailNext(emulator.OpToken, emulator.Fault{Status: 401, Body: string(body)})
		}
		x.run("status", "--verify")
		x.run("status", "--verify", "--json")
	}},
	{"server: accept answer's name → stdout, --json", func(t *testing.T, x *fx, h string) {
		inv := x.svc.invite(emulator.InvitationSpec{})
		answerNamed(x, "Lab "+h)
		x.runIn(runOpts{stdin: inv.Link}, "accept", "--token-file", "-", "--json")
		x.run("status")
		x.run("status", "--json")
	}},
	{"stored credentials → status, status --json, accept", func(t *testing.T, x *fx, h string) {
		x.enroll()
		var f map[string]any
		_ = json.Unmarshal(x.file(), &f)
		f["name"], f["id"] = "Lab "+h, "id-"+h
		b, _ := json.Marshal(f)
		if err := os.WriteFile(x.creds, b, 0o600); err != nil {
			t.Fatal(err)
		}
		x.run("status")
		x.run("status", "--json")
		x.runIn(runOpts{stdin: x.svc.invite(emulator.InvitationSpec{}).Link}, "accept", "--token-file", "-", "--json")
	}},
	{"invitation text → argument, ENROLL_TOKEN, --token-file, stdin", func(t *testing.T, x *fx, h string) {
		for _, text := range []string{h, x.svc.URL + "/invitation?token=abc" + h, "https://idp" + h + ".example/invitation?token=abcdefghijkl"} {
			x.run("accept", text)
			x.run("accept", "--json", text)
			x.runIn(runOpts{vars: map[string]string{"ENROLL_TOKEN": text}}, "decline")
			x.runIn(runOpts{stdin: text}, "accept", "--token-file", "-", "--json")
			file := filepath.Join(x.dir, "invitation.txt")
			if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			x.run("accept", "--token-file", file)
		}
	}},
	{"paths and values of flags → errors", func(t *testing.T, x *fx, h string) {
		p := filepath.Join(x.dir, "d"+strings.ReplaceAll(h, "/", "")+"x")
		x.run("accept", "--token-file", p, "--json")
		x.run("accept", "--token-file", "-", "--ca-file", p)
		x.run("status", "--credentials", filepath.Join(p, "credentials.json"))
		x.run("status", "--json", "--credentials", filepath.Join(p, "credentials.json"))
		x.run("accept", "--server", "https://idp"+h+".example", "--token-file", "-")
		x.run("accept", "--name", "Lab "+h, "--token-file", "-")
		x.run("accept", "--timeout", h)
		x.run("accept", "--"+h)
		x.run(h)
		x.runIn(runOpts{vars: map[string]string{"ENROLL_JSON": h}}, "status")
	}},
	{"answers to --plain → stdout", func(t *testing.T, x *fx, h string) {
		inv := x.svc.invite(emulator.InvitationSpec{})
		x.runIn(runOpts{stdin: h + "\n" + inv.Link + "\nLab " + h + "\n\nq\n"}, "--plain", "--server", x.svc.URL)
	}},
}

func TestHostileTextReachesNoOutput(t *testing.T) {
	for _, src := range hostileCLI {
		t.Run(src.name, func(t *testing.T) {
			t.Parallel()
			for _, h := range hostileTexts {
				t.Run(h.name, func(t *testing.T) {
					x := newFx(t)
					src.run(t, x, h.text)
					x.finish()
					x.mu.Lock()
					defer x.mu.Unlock()
					for _, o := range x.outs {
						for _, line := range strings.Split(o, "\n") {
							// Server text is capped; only our own long values
							// (a path, a stored field) may make a long line.
							if n := utf8.RuneCountInString(line); n > 2000 && strings.HasPrefix(src.name, "server: ") && !strings.Contains(src.name, "name") {
								t.Errorf("a line of %d runes: %s", n, short(line))
							}
						}
					}
				})
			}
		})
	}
}

// hostileWizard are the sources the wizard shows.
var hostileWizard = []struct {
	name string
	run  func(t *testing.T, x *fx, h string)
}{
	{"stored credentials → welcome and name screens", func(t *testing.T, x *fx, h string) {
		x.enroll()
		var f map[string]any
		_ = json.Unmarshal(x.file(), &f)
		f["name"], f["id"] = "Lab "+h, "id-"+h
		b, _ := json.Marshal(f)
		if err := os.WriteFile(x.creds, b, 0o600); err != nil {
			t.Fatal(err)
		}
		w := startWiz(t, wizOptions(x, x.svc.URL))
		w.until("step 1 of 4") // (a file over 64 KiB is moved aside instead)
		w.keys(tea.KeyEnter)
		w.until("step 2 of 4")
		w.paste(x.svc.invite(emulator.InvitationSpec{}).Link)
		w.keys(tea.KeyEnter)
		w.until("step 3 of 4")
	}},
	{"accept error body → failure screen", func(t *testing.T, x *fx, h string) {
		inv := x.svc.invite(emulator.InvitationSpec{})
		msg, _ := json.Marshal("refused: " + h)
		x.svc.emu.FailNext(emulator.OpAccept, emulator.Fault{Status: 409, Body: `{"code":"used` + h + `","message":` + string(msg) + `}`})
		w := startWiz(t, wizOptions(x, x.svc.URL))
		w.to(inv.Link)
		w.typed("a")
		w.until("already been used")
		w.released(x)
	}},
	{"accept answer's name → done screen", func(t *testing.T, x *fx, h string) {
		inv := x.svc.invite(emulator.InvitationSpec{})
		answerNamed(x, "Lab "+h)
		w := startWiz(t, wizOptions(x, x.svc.URL))
		w.to(inv.Link)
		w.typed("a")
		if len("Lab "+h) > api.MaxAnswerName {
			w.until("cannot read") // set aside, never stored: the name is too long
			return
		}
		w.until("Enrolled")
	}},
	{"phone hand-off text, address and code → hand-off and invitation screens", func(t *testing.T, x *fx, h string) {
		inv := x.svc.invite(emulator.InvitationSpec{})
		o := wizOptions(x, x.svc.URL)
		// The QR code's own colours are escape sequences; as ASCII it has
		// none, so any in the frame would have come from the phone.
		o.ASCII, o.QRFormat = true, qr.FormatASCII
		o.StartPhone = func() (tui.Phone, error) {
			return fakePhone{handoff.Received{Text: inv.Link + h, From: "192.0.2.9" + h, Code: "123" + h}}, nil
		}
		w := startWiz(t, o)
		w.until("step 1 of 4")
		w.keys(tea.KeyEnter)
		w.until("step 2 of 4")
		w.keys(tea.KeyCtrlO)
		v := w.untilAny("The hand-off ended", "sent an invitation")
		if strings.Contains(v, "sent an invitation") {
			// Line breaks and long text pass: the codes are compared,
			// then the parser reads the text.
			w.typed("y")
		} else if !strings.Contains(v, "invisible character") {
			t.Fatalf("refused for another reason:\n%s", v)
		} else {
			w.keys(tea.KeyEsc)
		}
		w.until(" of 4")
	}},
	{"pasted and typed text → invitation field", func(t *testing.T, x *fx, h string) {
		w := startWiz(t, wizOptions(x, x.svc.URL))
		w.until("step 1 of 4")
		w.keys(tea.KeyEnter)
		w.until("step 2 of 4")
		w.paste("https://idp.example.com/invitation?token=abc" + h + "def")
		w.typed(h)
		w.until("step 2 of 4")
	}},
}

func TestHostileTextReachesNoWizardFrame(t *testing.T) {
	for _, src := range hostileWizard {
		t.Run(src.name, func(t *testing.T) {
			t.Parallel()
			for _, h := range hostileTexts {
				t.Run(h.name, func(t *testing.T) {
					x := newFx(t)
					src.run(t, x, h.text)
					x.finish()
				})
			}
		})
	}
}

// A look-alike host is shown as it is, so the person can tell it from
// their service; enroll neither hides nor "fixes" it.
func TestLookAlikeHostsAreShownAsTheyAre(t *testing.T) {
	for _, host := range []string{"іdp.example.com", "idp.examp1e.com", "xn--dp-jfb.example.com", "idp.example.com.evil.example"} {
		t.Run(host, func(t *testing.T) {
			x := newFx(t)
			link := "https://" + host + "/invitation?token=abcdefghijklmnop"
			w := startWiz(t, wizOptions(x, ""))
			w.until("step 1 of 4")
			w.keys(tea.KeyEnter)
			w.until("step 2 of 4")
			w.paste(link)
			w.until("read from a link at " + host)
			w.keys(tea.KeyEnter)
			w.until("The invitation link points to", host, "https://"+host, "use this server")
			// The log names it too. (--server keeps the call on loopback:
			// the test must not reach out to whoever owns these names.)
			r := x.runIn(runOpts{stdin: link}, "accept", "--token-file", "-", "--server", x.svc.URL)
			x.exit(r, 3, `token read from a link at `+regexpQuote(host))
			x.finish()
		})
	}
}

func regexpQuote(s string) string {
	r := strings.NewReplacer(".", `\.`)
	return r.Replace(s)
}

// answerNamed makes the service's accept answer (after it committed) carry
// name as the device's name, as a hostile or confused service might.
func answerNamed(x *fx, name string) {
	var sent []byte
	x.svc.front(api.PathAccept, committedThen(func(b []byte) []byte {
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		m["name"] = name
		out, _ := json.Marshal(m)
		return out
	}, &sent))
}
