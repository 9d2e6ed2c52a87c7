package tui

// The plain runner end to end: the real emulator over loopback, the real
// api client, the real credentials store in a temporary directory, answers
// as lines of text, output in a buffer. Every test checks that the output
// holds no escape byte, no invitation token and no client secret.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"enroll/api"
	"enroll/api/emulator"
	"enroll/api/emulator/emulatortest"
	"enroll/flow"
	"enroll/persist"
)

const plainHost = "kiosk-7"

type plainEnv struct {
	t      *testing.T
	emu    *emulator.Emulator
	url    string
	path   string
	opts   PlainOptions // Driver and Config; In and Out per run
	tokens []string     // every invitation token handed out
	// cancelAt, when set, makes run call cancel once the output shows it.
	cancelAt string
	cancel   func()
	// revealOK lets client secrets appear in the output: the test counts
	// them itself.
	revealOK bool
}

func newPlainEnv(t *testing.T) *plainEnv {
	t.Helper()
	run := emulatortest.Start(t, emulator.Options{})
	hc, err := api.NewHTTPClient(api.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := &plainEnv{t: t, emu: run.Emulator, url: run.URL, path: filepath.Join(t.TempDir(), "enroll", "credentials.json")}
	e.opts = PlainOptions{Config: flow.Config{Hostname: plainHost}, Driver: flow.Driver{
		Service: api.New(api.Options{HTTP: hc}), Store: persist.Open(persist.Options{Path: e.path})}}
	return e
}

func (e *plainEnv) invite(groups ...string) emulator.Invitation {
	e.t.Helper()
	if len(groups) == 0 {
		groups = []string{emulator.GroupKiosks}
	}
	inv, err := e.emu.CreateInvitation(emulator.InvitationSpec{Groups: groups})
	if err != nil {
		e.t.Fatal(err)
	}
	e.tokens = append(e.tokens, inv.Token)
	return inv
}

// run answers the prompts from in and checks the outcome and the output.
func (e *plainEnv) run(ctx context.Context, in io.Reader, want flow.State, wantErr error, wantOut []string) (flow.Machine, string) {
	e.t.Helper()
	w := &plainNotifyWriter{trigger: e.cancelAt, fire: e.cancel}
	o := e.opts
	o.In, o.Out = in, w
	m, err := RunPlain(ctx, o)
	out := w.buf.String()
	e.noLeak(out)
	if m.State != want || !errors.Is(err, wantErr) || (wantErr == nil && err != nil) {
		e.t.Fatalf("state %v, err %v; want %v, %v\n%s", m.State, err, want, wantErr, out)
	}
	for _, w := range wantOut {
		if !strings.Contains(out, w) {
			e.t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	return m, out
}

// noLeak fails when out holds ESC, a C1 CSI or a bidi override, any
// invitation token, or (unless revealOK) a client secret the emulator
// issued.
func (e *plainEnv) noLeak(out string) {
	e.t.Helper()
	bad := append([]string{"\x1b", "\u009b", "\u202e"}, e.tokens...)
	if !e.revealOK {
		for _, c := range e.emu.Clients() {
			bad = append(bad, c.ClientSecret)
		}
	}
	for _, s := range bad {
		if s != "" && strings.Contains(out, s) {
			e.t.Errorf("output holds %q:\n%s", s, out)
		}
	}
}

// assertStored checks that the credentials file holds exactly the one
// client the emulator registered.
func (e *plainEnv) assertStored() {
	e.t.Helper()
	snap, err := persist.Open(persist.Options{Path: e.path}).Load(context.Background())
	cs := e.emu.Clients()
	if err != nil || len(cs) != 1 {
		e.t.Fatalf("load: %v; clients %+v", err, cs)
	}
	got, c := snap.Existing, cs[0]
	if got == nil || got.ID != c.ID || got.ClientID != c.ClientID || got.ClientSecret != c.ClientSecret || got.Server != e.url {
		e.t.Fatalf("stored %+v, emulator has %+v", got, c)
	}
}

func (e *plainEnv) assertNothingSent(inv emulator.Invitation) {
	e.t.Helper()
	for _, op := range []string{emulator.OpAccept, emulator.OpDecline, emulator.OpToken} {
		if n := e.emu.Calls(op); n != 0 {
			e.t.Errorf("%s calls = %d, want 0", op, n)
		}
	}
	if st, _ := e.emu.Invitation(inv.Token); st.State != emulator.StateOpen {
		e.t.Errorf("invitation is %s, want open", st.State)
	}
	if _, err := os.Stat(e.path); !errors.Is(err, os.ErrNotExist) {
		e.t.Errorf("credentials file: %v, want none", err)
	}
}

// plainInput is the answers as typed, LINK and TOKEN standing for the
// invitation's.
func plainInput(inv emulator.Invitation, answers ...string) string {
	r := strings.NewReplacer("LINK", inv.Link, "TOKEN", inv.Token)
	return r.Replace(strings.Join(answers, "\n") + "\n")
}

func TestPlainRuns(t *testing.T) {
	tests := []struct {
		name     string
		server   bool // the emulator's URL is configured, as --server would
		demo     bool // the link is the DemoLink
		fail503  bool // the first accept call is answered 503
		answers  []string
		want     flow.State
		wantErr  error
		wantOut  []string
		declined bool
	}{
		{name: "new device: link, default name, accept", answers: []string{"LINK", "y", "", "a"}, want: flow.StateDone,
			wantOut: []string{"Step 1 of 4: this device.", "Server: none set", "This device is new", "Step 2 of 4: invitation.",
				"Invitation link: ", "Token read from a link at 127.0.0.1.", "Use it? [y/n]: ", "Device name [kiosk-7]: ",
				"Step 4 of 4: review.", "Device: new", "Accept (a), decline (d) or go back (b)? ",
				"Checking that the credentials can be stored...", "Accepting the invitation...", "Keeping the answer safe...",
				"Storing the credentials...", "Enrolled: this device is now a device client.", "Name: kiosk-7", "Secret: stored, not shown\n", "File: ",
				"`enroll status --verify` checks that the service accepts them."}},
		{name: "decline", server: true, answers: []string{"LINK", "", "d", "yes"}, want: flow.StateDeclined, declined: true,
			wantOut: []string{"Decline it? [yes/no]: ", "Declining the invitation...", "Declined the invitation.\nNothing was stored on this device."}},
		// A line is a line: text typed or scanned at the review prompt is
		// not a command, and declining is asked once more.
		{name: "text at the review prompt", server: true,
			answers: []string{"LINK", "", "see a link", "https://idp.example.com/invitation?token=abcdefgh", "d", "", "d", "yes, really", "a"},
			want:    flow.StateDone, wantOut: []string{"Please answer a to accept, d to decline or b to go back.", "Not declined."}},
		{name: "text at the server question", answers: []string{"LINK", "link y s", "thanks s", "y", "", "a"}, want: flow.StateDone,
			wantOut: []string{"Please answer y for yes or n for no."}},
		{name: "invalid token, then corrected", answers: []string{"not a token !!", "LINK", "y", "", "a"}, want: flow.StateDone,
			wantOut: []string{"Not accepted: the token contains characters that are not allowed"}},
		{name: "bare token without a server is asked again, then the link", answers: []string{"TOKEN", "LINK", "y", "", "a"},
			want: flow.StateDone, wantOut: []string{"Not accepted: a token alone names no server"}},
		{name: "server refused, then accepted", answers: []string{"LINK", "n", "LINK", "maybe", "y", "", "a"}, want: flow.StateDone,
			wantOut: []string{"Not using it.", "Please answer y for yes or n for no."}},
		{name: "accept answered 503 once, then retried", server: true, fail503: true, answers: []string{"LINK", "", "a", "r"},
			want: flow.StateDone, wantOut: []string{"The service had a problem.", `maintenance \x1b[2J`,
				"Retry (r), go back (b) or quit (q)? ", "Enrolled: this device is now a device client."}},
		{name: "demo: an empty line takes the demo link", demo: true, answers: []string{"", "y", "", "a"}, want: flow.StateDone,
			wantOut: []string{"press Enter on an empty line to use the demo invitation", "Using the demo invitation."}},
		{name: "input ends at the name prompt", answers: []string{"LINK", "y"}, want: flow.StateFailed, wantErr: flow.ErrInterrupted,
			wantOut: []string{"Device name [kiosk-7]: \nThe input ended before this question was answered.\nInterrupted."}},
		{name: "escape, C1 and bidi characters are shown inert", want: flow.StateDone,
			answers: []string{"\x1b[31mhttps://ex\u202eample.com/invitations/abc\u009bdefghij\x1b]0;t\a", "LINK", "y",
				"evil\x1b[2J\u202ename\u009b", "", "a"},
			wantOut: []string{`Not accepted: the link's host contains a text-direction character \u202e`,
				`Not accepted: the name contains a control character \x1b at position 5`}},
		{name: "a line over 8 KiB is refused and asked again", answers: []string{strings.Repeat("x", 9000), "LINK", "y", "", "a"},
			want: flow.StateDone, wantOut: []string{"Not accepted: the line is longer than 8 KiB.\nInvitation link: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPlainEnv(t)
			inv := e.invite()
			if tt.server {
				e.opts.Config.Server = e.url
			}
			if tt.demo {
				e.opts.DemoLink = inv.Link
			}
			if tt.fail503 {
				e.emu.FailNext(emulator.OpAccept, emulator.Fault{Status: 503,
					Body: `{"error":"server_error","error_description":"maintenance \u001b[2J"}`})
			}
			e.run(t.Context(), strings.NewReader(plainInput(inv, tt.answers...)), tt.want, tt.wantErr, tt.wantOut)
			switch st, _ := e.emu.Invitation(inv.Token); {
			case tt.want == flow.StateDone:
				e.assertStored()
				if c := e.emu.Clients()[0]; c.Name != plainHost {
					t.Errorf("client named %q, want %q", c.Name, plainHost)
				}
			case tt.declined:
				if st.State != emulator.StateDeclined || len(e.emu.Clients()) != 0 {
					t.Errorf("invitation %s, clients %d; want declined, none", st.State, len(e.emu.Clients()))
				}
			default:
				e.assertNothingSent(inv)
			}
			if want := 1 + btoi(tt.fail503); tt.want == flow.StateDone && e.emu.Calls(emulator.OpAccept) != want {
				t.Errorf("accept calls = %d, want %d", e.emu.Calls(emulator.OpAccept), want)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// An enrolled device takes a second invitation with its bearer token: no
// new client, its credentials unchanged, the client in both groups.
func TestPlainExistingDevice(t *testing.T) {
	e := newPlainEnv(t)
	first := e.invite(emulator.GroupKiosks)
	e.run(t.Context(), strings.NewReader(plainInput(first, "LINK", "y", "", "a")), flow.StateDone, nil, nil)
	client, tokenCalls := e.emu.Clients()[0], e.emu.Calls(emulator.OpToken)

	second := e.invite(emulator.GroupLab)
	_, out := e.run(t.Context(), strings.NewReader(plainInput(second, "LINK", "", "a")), flow.StateDone, nil,
		[]string{"This device is already a device client.", "Name: kiosk-7", "ID: " + client.ID, "Device name [kiosk-7]: ",
			"Name: unchanged, kiosk-7", "Authenticating this device...", "This device was already a device client; the invitation added it to more groups."})
	if strings.Contains(out, "Use it? [y/n]") {
		t.Error("the link's server was proposed although the device is enrolled with one")
	}
	if cs := e.emu.Clients(); len(cs) != 1 || !slices.Contains(cs[0].Groups, emulator.GroupLab) {
		t.Fatalf("clients = %+v, want the one client, now in %s", cs, emulator.GroupLab)
	}
	if e.emu.Calls(emulator.OpToken) <= tokenCalls {
		t.Error("no access token was asked for: the bearer path was not taken")
	}
	if st, _ := e.emu.Invitation(second.Token); st.AcceptedBy != client.ID {
		t.Errorf("second invitation accepted by %q, want %q", st.AcceptedBy, client.ID)
	}
	e.assertStored()
}

// plainNotifyWriter keeps the output and calls fire once it shows trigger
// (when set), so that a test acts at a given point of a run without
// sleeping.
type plainNotifyWriter struct {
	buf     bytes.Buffer
	trigger string
	fire    func()
	once    sync.Once
}

func (w *plainNotifyWriter) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	if w.trigger != "" && strings.Contains(w.buf.String(), w.trigger) {
		w.once.Do(w.fire)
	}
	return n, err
}

// Cancelling the context (Ctrl-C, SIGTERM, SIGHUP) stops a run that has
// sent nothing, and lets one whose accept call is on its way finish storing.
func TestPlainCancel(t *testing.T) {
	tests := []struct {
		name, at string // cancel when the output first shows at
		answers  []string
		want     flow.State
		wantErr  error
		wantOut  string
	}{
		{"waiting at the review prompt", "Accept (a), decline (d) or go back (b)? ", []string{"LINK", "y", ""},
			flow.StateFailed, flow.ErrInterrupted, "Interrupted."},
		{"while checking the store", "Checking that the credentials can be stored...", []string{"LINK", "y", "", "a"},
			flow.StateFailed, flow.ErrInterrupted, "Interrupted."},
		{"once the accept call is on its way", "Accepting the invitation...", []string{"LINK", "y", "", "a"},
			flow.StateDone, nil, "Interrupted. Finishing first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPlainEnv(t)
			inv := e.invite()
			// A pipe that stays open: the run waits for more input, as at
			// a terminal, instead of meeting its end.
			pr, pw := io.Pipe()
			t.Cleanup(func() { pw.Close() })
			go pw.Write([]byte(plainInput(inv, tt.answers...))) //nolint:errcheck // ends with the pipe
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			e.cancelAt, e.cancel = tt.at, cancel
			if tt.want == flow.StateDone {
				// On its way means at the service: the emulator holds the
				// call a moment, and the interruption comes once it has it.
				// Before a connection carries it, an interruption stops it.
				e.emu.FailNext(emulator.OpAccept, emulator.Fault{Delay: 500 * time.Millisecond})
				e.cancel = func() {
					go func() {
						for e.emu.Calls(emulator.OpAccept) == 0 {
							time.Sleep(time.Millisecond)
						}
						cancel()
					}()
				}
			}
			e.run(ctx, pr, tt.want, tt.wantErr, []string{tt.wantOut})
			if tt.want == flow.StateDone {
				e.assertStored()
			} else {
				e.assertNothingSent(inv)
			}
		})
	}
}

func TestPlainNextLine(t *testing.T) {
	long := strings.Repeat("y", plainMaxLine+1)
	in := "a\r\n\n" + long + "\n" + strings.Repeat("z", plainMaxLine) + "\r\n" + long + "tail\nlast"
	br := bufio.NewReaderSize(strings.NewReader(in), plainMaxLine+2)
	want := []plainLine{{text: "a"}, {text: ""}, {tooLong: true}, {text: strings.Repeat("z", plainMaxLine)},
		{tooLong: true}, {text: "last"}}
	var got []plainLine
	for {
		l, err := plainNextLine(br)
		if l != nil {
			got = append(got, *l)
		}
		if err != nil {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("lines = %.60v, want %.60v", got, want)
	}
}

func TestPlainMask(t *testing.T) {
	for in, want := range map[string]string{
		"abcdefgh":               "hidden",
		"abcdefghijkl":           "hidden",
		"abcdefghijklm":          "abcd...jklm",
		"tok-\x1b[2J-0123456789": "tok-...6789",
	} {
		if got := plainMask(in); got != want {
			t.Errorf("plainMask(%q) = %q, want %q", in, got, want)
		}
	}
}
