package tui

// The plain runner end to end: real emulator over loopback, real api
// client, real credentials store in a temporary directory, answers as lines
// of text, output in a buffer. Every test checks that the output holds no
// escape byte, no invitation token and no client secret.

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

	"enroll/api"
	"enroll/api/emulator"
	"enroll/flow"
	"enroll/persist"
)

const plainHost = "kiosk-7"

type plainEnv struct {
	t      *testing.T
	emu    *emulator.Emulator
	url    string
	path   string
	driver flow.Driver
	tokens []string // every invitation token handed out
}

func newPlainEnv(t *testing.T) *plainEnv {
	t.Helper()
	run, err := emulator.Listen("127.0.0.1:0", emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Close() })
	hc, err := api.NewHTTPClient(api.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := &plainEnv{t: t, emu: run.Emulator, url: run.URL,
		path: filepath.Join(t.TempDir(), "enroll", "credentials.json")}
	e.driver = flow.Driver{Service: api.New(api.Options{HTTP: hc}), Store: persist.Open(persist.Options{Path: e.path})}
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

// run answers the prompts with lines and checks the output for leaks.
func (e *plainEnv) run(ctx context.Context, in io.Reader, out io.Writer, server string) (flow.Machine, error) {
	e.t.Helper()
	return RunPlain(ctx, PlainOptions{In: in, Out: out, Driver: e.driver,
		Config: flow.Config{Server: server, Hostname: plainHost}})
}

// noLeak fails when out holds an escape byte, a C1 or bidi control, any
// invitation token, or any client secret the emulator issued (except those
// in allowed, which the test meant to be shown).
func (e *plainEnv) noLeak(out string, allowed ...string) {
	e.t.Helper()
	for _, bad := range []string{"\x1b", "\u009b", "\u202e"} {
		if strings.Contains(out, bad) {
			e.t.Errorf("output holds %q:\n%s", bad, out)
		}
	}
	secrets := slices.Clone(e.tokens)
	for _, c := range e.emu.Clients() {
		if !slices.Contains(allowed, c.ClientSecret) {
			secrets = append(secrets, c.ClientSecret)
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			e.t.Errorf("output leaks a token or secret %q:\n%s", s, out)
		}
	}
}

func (e *plainEnv) stored() *flow.Credentials {
	e.t.Helper()
	snap, err := persist.Open(persist.Options{Path: e.path}).Load(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return snap.Existing
}

// assertStoredIs checks that the credentials file holds exactly the client
// the emulator registered.
func (e *plainEnv) assertStoredIs(c emulator.Client) {
	e.t.Helper()
	got := e.stored()
	if got == nil || got.ID != c.ID || got.ClientID != c.ClientID || got.ClientSecret != c.ClientSecret || got.Server != e.url {
		e.t.Fatalf("stored %+v, emulator has %+v", got, c)
	}
}

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

func TestPlainRuns(t *testing.T) {
	type check func(t *testing.T, e *plainEnv, inv emulator.Invitation, m flow.Machine)
	newDevice := func(t *testing.T, e *plainEnv, _ emulator.Invitation, m flow.Machine) {
		cs := e.emu.Clients()
		if len(cs) != 1 || cs[0].Name != plainHost {
			t.Fatalf("clients = %+v, want one named %s", cs, plainHost)
		}
		e.assertStoredIs(cs[0])
	}
	tests := []struct {
		name    string
		server  bool // configure the emulator's URL as --server
		setup   func(e *plainEnv)
		input   func(link, token string) string
		want    flow.State
		wantErr error
		wantOut []string
		check   check
	}{{
		name:  "new device: link, default name, accept",
		input: func(link, _ string) string { return lines(link, "y", "", "a") },
		want:  flow.StateDone,
		wantOut: []string{"Step 1 of 4: this device.", "Server: none set", "This device is new",
			"Step 2 of 4: invitation.", "Invitation link or token: ", "Token read from a link at 127.0.0.1.",
			"Use it? [y/n]: ", "Device name [kiosk-7]: ", "Step 4 of 4: review.", "Device: new",
			"Accept (a), decline (d) or go back (b)? ", "Checking that the credentials can be stored…",
			"Accepting the invitation…", "Keeping the answer safe…", "Storing the credentials…",
			"Enrolled.", "Name: kiosk-7", "Secret: stored, not shown.", "Credentials file: ", "enroll status --verify"},
		check: newDevice,
	}, {
		name:    "decline",
		server:  true,
		input:   func(link, _ string) string { return lines(link, "", "d") },
		want:    flow.StateDeclined,
		wantOut: []string{"Declining the invitation…", "Invitation declined; nothing was stored."},
		check: func(t *testing.T, e *plainEnv, inv emulator.Invitation, _ flow.Machine) {
			if st, _ := e.emu.Invitation(inv.Token); st.State != emulator.StateDeclined {
				t.Errorf("invitation is %s, want declined", st.State)
			}
			if len(e.emu.Clients()) != 0 || e.stored() != nil {
				t.Error("a decline created or stored a client")
			}
		},
	}, {
		name:    "invalid token, then corrected",
		input:   func(link, _ string) string { return lines("not a token !!", link, "y", "", "a") },
		want:    flow.StateDone,
		wantOut: []string{"Not accepted: malformed invitation"},
		check:   newDevice,
	}, {
		name:    "bare token without a server is asked again, then the link works",
		input:   func(link, token string) string { return lines(token, link, "y", "", "a") },
		want:    flow.StateDone,
		wantOut: []string{"Not accepted: usage: a token alone does not say which server to use"},
		check:   newDevice,
	}, {
		name:    "server proposal refused, then accepted",
		input:   func(link, _ string) string { return lines(link, "n", link, "maybe", "y", "", "a") },
		want:    flow.StateDone,
		wantOut: []string{"Not using it.", "Please answer y for yes or n for no."},
		check: func(t *testing.T, e *plainEnv, inv emulator.Invitation, m flow.Machine) {
			newDevice(t, e, inv, m)
		},
	}, {
		name:   "accept answered 503 once, then retried",
		server: true,
		setup: func(e *plainEnv) {
			e.emu.FailNext(emulator.OpAccept, emulator.Fault{Status: 503, Body: `{"error":"server_error","error_description":"down \u001b[2J for maintenance"}`})
		},
		input:   func(link, _ string) string { return lines(link, "", "a", "r") },
		want:    flow.StateDone,
		wantOut: []string{"The service had a problem.", "Retry (r), go back (b) or quit (q)? ", "Enrolled."},
		check: func(t *testing.T, e *plainEnv, inv emulator.Invitation, m flow.Machine) {
			if n := e.emu.Calls(emulator.OpAccept); n != 2 {
				t.Errorf("accept calls = %d, want 2", n)
			}
			newDevice(t, e, inv, m)
		},
	}, {
		name:    "input ends at the name prompt",
		input:   func(link, _ string) string { return lines(link, "y") },
		want:    flow.StateFailed,
		wantErr: flow.ErrInterrupted,
		wantOut: []string{"Device name [kiosk-7]: \nInterrupted."},
		check:   nothingSent,
	}, {
		name: "escape, C1 and bidi characters are shown inert",
		input: func(link, _ string) string {
			return lines("\x1b[31mhttps://ex\u202eample.com/invitations/abc\u009bdefghij\x1b]0;t\a", link, "y",
				"evil\x1b[2J\u202ename\u009b", "", "a")
		},
		want:    flow.StateDone,
		wantOut: []string{`Not accepted: device name not valid: the name contains`},
		check:   newDevice,
	}, {
		name:    "a line over 8 KiB is refused and asked again",
		input:   func(link, _ string) string { return lines(strings.Repeat("x", 9000), link, "y", "", "a") },
		want:    flow.StateDone,
		wantOut: []string{"Not accepted: the line is longer than 8 KiB.\nInvitation link or token: "},
		check:   newDevice,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPlainEnv(t)
			inv := e.invite()
			if tt.setup != nil {
				tt.setup(e)
			}
			server := ""
			if tt.server {
				server = e.url
			}
			var out bytes.Buffer
			m, err := e.run(t.Context(), strings.NewReader(tt.input(inv.Link, inv.Token)), &out, server)
			got := out.String()
			e.noLeak(got)
			if m.State != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("state %v, err %v; want %v, %v\n%s", m.State, err, tt.want, tt.wantErr, got)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			if tt.check != nil {
				tt.check(t, e, inv, m)
			}
		})
	}
}

func nothingSent(t *testing.T, e *plainEnv, inv emulator.Invitation, _ flow.Machine) {
	t.Helper()
	for _, op := range []string{emulator.OpAccept, emulator.OpDecline, emulator.OpToken} {
		if n := e.emu.Calls(op); n != 0 {
			t.Errorf("%s calls = %d, want 0", op, n)
		}
	}
	if st, _ := e.emu.Invitation(inv.Token); st.State != emulator.StateOpen {
		t.Errorf("invitation is %s, want open", st.State)
	}
	if _, err := os.Stat(e.path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("credentials file: %v, want none", err)
	}
}

// An enrolled device takes a second invitation with its bearer token: no
// new client, its credentials unchanged, the client in both groups.
func TestPlainExistingDevice(t *testing.T) {
	e := newPlainEnv(t)
	first := e.invite(emulator.GroupKiosks)
	var out bytes.Buffer
	if _, err := e.run(t.Context(), strings.NewReader(lines(first.Link, "y", "", "a")), &out, ""); err != nil {
		t.Fatalf("first run: %v\n%s", err, out.String())
	}
	client := e.emu.Clients()[0]
	tokens := e.emu.Calls(emulator.OpToken)

	second := e.invite(emulator.GroupLab)
	out.Reset()
	m, err := e.run(t.Context(), strings.NewReader(lines(second.Link, "", "a")), &out, "")
	got := out.String()
	e.noLeak(got)
	if err != nil || m.State != flow.StateDone {
		t.Fatalf("second run: %v, %v\n%s", m.State, err, got)
	}
	for _, w := range []string{"This device is already a device client.", "Name: kiosk-7", "Id: " + client.ID,
		"Device name [kiosk-7]: ", "Name: unchanged, kiosk-7", "Authenticating this device…", "Added to more groups."} {
		if !strings.Contains(got, w) {
			t.Errorf("output lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "Use it? [y/n]") {
		t.Error("the stored server was not used: the link's server was proposed")
	}
	cs := e.emu.Clients()
	if len(cs) != 1 || !slices.Contains(cs[0].Groups, emulator.GroupLab) || !slices.Contains(cs[0].Groups, emulator.GroupKiosks) {
		t.Fatalf("clients = %+v, want the one client in both groups", cs)
	}
	if e.emu.Calls(emulator.OpToken) <= tokens {
		t.Error("no access token was asked for: the bearer path was not taken")
	}
	if st, _ := e.emu.Invitation(second.Token); st.AcceptedBy != client.ID {
		t.Errorf("second invitation accepted by %q, want %q", st.AcceptedBy, client.ID)
	}
	e.assertStoredIs(client)
}

// notifyWriter calls fire once when the output first contains trigger, so a
// test can act at a prompt without sleeping.
type notifyWriter struct {
	buf     bytes.Buffer
	trigger string
	fire    func()
	once    sync.Once
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.trigger) {
		w.once.Do(w.fire)
	}
	return n, err
}

func TestPlainCancelAtReview(t *testing.T) {
	e := newPlainEnv(t)
	inv := e.invite()
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	go pw.Write([]byte(lines(inv.Link, "y", ""))) //nolint:errcheck // ends with the pipe
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &notifyWriter{trigger: "Accept (a), decline (d) or go back (b)? ", fire: cancel}

	m, err := e.run(ctx, pr, out, "")
	got := out.buf.String()
	e.noLeak(got)
	if !errors.Is(err, flow.ErrInterrupted) || m.State != flow.StateFailed {
		t.Fatalf("state %v, err %v; want failed, interrupted\n%s", m.State, err, got)
	}
	if !strings.Contains(got, "Interrupted.") {
		t.Errorf("output does not say it was interrupted:\n%s", got)
	}
	nothingSent(t, e, inv, m)
}

// failingStore loses both the journal and the credentials file, so the
// secret the service issued exists nowhere but on the screen.
type failingStore struct{ *persist.Store }

func (failingStore) Journal(flow.Pending) error  { return errors.New("disk full") }
func (failingStore) Save(flow.Credentials) error { return errors.New("disk full") }

func TestPlainRevealsUnstoredCredentialsOnce(t *testing.T) {
	e := newPlainEnv(t)
	e.driver.Store = failingStore{persist.Open(persist.Options{Path: e.path})}
	inv := e.invite()
	var out bytes.Buffer
	m, err := e.run(t.Context(), strings.NewReader(lines(inv.Link, "y", "", "a", "x", "r", "q")), &out, "")
	got := out.String()
	if !errors.Is(err, flow.ErrNotStored) || m.State != flow.StateFailed {
		t.Fatalf("state %v, err %v; want failed, not stored\n%s", m.State, err, got)
	}
	secret := e.emu.Clients()[0].ClientSecret
	e.noLeak(got, secret)
	if n := strings.Count(got, secret); n != 1 {
		t.Errorf("the secret is shown %d times, want once:\n%s", n, got)
	}
	for _, w := range []string{"They are shown once, here.", "Retry (r) or quit (q)? ",
		"Please answer with one of the letters", "still kept nowhere else"} {
		if !strings.Contains(got, w) {
			t.Errorf("output lacks %q:\n%s", w, got)
		}
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
	for _, tt := range []struct{ in, want string }{
		{"abcdefgh", "hidden"},
		{"abcdefghijkl", "hidden"},
		{"abcdefghijklm", "abcd…jklm"},
		{"tok-\x1b[2J-0123456789", `tok-…6789`},
	} {
		if got := plainMask(tt.in); got != tt.want {
			t.Errorf("plainMask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
