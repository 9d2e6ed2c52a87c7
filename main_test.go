package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"enroll/api/emulator"
)

// TestMain lets the test binary run as the real `enroll` command: testscript
// starts it as a separate process for every `exec enroll …` line, so the
// end-to-end scripts exercise argv, stdin, stdout, stderr, exit codes and
// signals exactly as a provisioning script would.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"enroll": func() {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			code := run(ctx, os.Args[1:], systemEnv())
			stop()
			os.Exit(code)
		},
	})
}

// TestScripts runs testdata/script/*.txtar against an emulator served on
// loopback for each script, with the credentials in the script's own
// temporary directory.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:   filepath.Join("testdata", "script"),
		Setup: setupEmulator,
		Cmds:  emuCmds,
	})
}

type emuKey struct{}

// scriptEmu is the emulator of one script and its adjustable clock.
type scriptEmu struct {
	run *emulator.Running

	mu     sync.Mutex
	offset time.Duration
	links  map[string]string // invitation name in the script → token
}

func (s *scriptEmu) now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Add(s.offset)
}

func setupEmulator(env *testscript.Env) error {
	s := &scriptEmu{links: map[string]string{}}
	run, err := emulator.Listen("127.0.0.1:0", emulator.Options{Clock: s.now, AdminToken: "admin-e2e"})
	if err != nil {
		return err
	}
	s.run = run
	env.Defer(func() { run.Close() })
	env.Values[emuKey{}] = s
	env.Setenv("EMU", run.URL)
	env.Setenv("ENROLL_CREDENTIALS", filepath.Join(env.WorkDir, "state", "credentials.json"))
	env.Setenv("ENROLL_DEFAULTS", filepath.Join(env.WorkDir, "no-defaults")) // not the machine's
	env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, "xdg"))
	for _, k := range []string{"ENROLL_SERVER", "ENROLL_TOKEN", "ENROLL_TOKEN_FILE", "ENROLL_JSON", "ENROLL_NAME", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		env.Setenv(k, "")
	}
	env.Setenv("NO_PROXY", "127.0.0.1,localhost")
	return nil
}

func emuOf(ts *testscript.TestScript) *scriptEmu {
	return ts.Value(emuKey{}).(*scriptEmu)
}

var emuCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"emu":    cmdEmu,
	"noleak": cmdNoLeak,
	"mode":   cmdMode,
	"exits":  cmdExits,
	"serve":  cmdServe,
}

// cmdServe starts `enroll emulator --invite --json` as a separate process,
// reads the object it prints, and exports EMU_PROC (its URL) and
// EMU_PROC_LINK (the invitation link). The process is stopped with SIGINT
// when the script ends, and must exit 0.
func cmdServe(ts *testscript.TestScript, neg bool, args []string) {
	path, err := exec.LookPath("enroll")
	ts.Check(err)
	cmd := exec.Command(path, "emulator", "--listen", "127.0.0.1:0", "--invite", "--json")
	cmd.Env = os.Environ()
	out, err := cmd.StdoutPipe()
	ts.Check(err)
	ts.Check(cmd.Start())
	var info struct{ URL, AdminToken, InvitationLink string }
	if err := json.NewDecoder(out).Decode(&info); err != nil {
		_ = cmd.Process.Kill()
		ts.Fatalf("enroll emulator printed no JSON: %v", err)
	}
	if info.URL == "" || info.AdminToken == "" || info.InvitationLink == "" {
		ts.Fatalf("enroll emulator printed %+v", info)
	}
	ts.Setenv("EMU_PROC", info.URL)
	ts.Setenv("EMU_PROC_LINK", info.InvitationLink)
	ts.Defer(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			ts.Fatalf("enroll emulator did not stop cleanly: %v", err)
		}
	})
}

// cmdExits runs a command and asserts its exit code: exits 3 enroll accept …
// (testscript's own `! exec` only knows zero from non-zero).
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = exit.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// cmdEmu drives the script's emulator:
//
//	emu invite NAME [group=ID] [existing-only] [only-client=ID] [expired]   writes NAME.link, .token, .mail
//	emu state NAME STATE                                          asserts the invitation's state
//	emu fail OP STATUS [BODY]                                     next OP answers STATUS
//	emu drop OP                                                   next OP commits, then drops the connection
//	emu down | emu up                                             every call answers 503, or not
//	emu calls OP N                                                asserts how many OP calls arrived
//	emu clients N                                                 asserts how many device clients exist
//	emu groups N                                                  asserts the only client's group count
//	emu stored                                                    the credentials file holds the issued secret
//	emu clock DURATION                                            moves the emulator's clock
//	emu retry-after OP STATUS SECONDS [BODY]                      next OP answers STATUS with Retry-After
//	emu revoke NAME                                               the administrator revokes the invitation
func cmdEmu(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("emu does not support !")
	}
	if len(args) == 0 {
		ts.Fatalf("usage: emu SUBCOMMAND …")
	}
	s := emuOf(ts)
	e := s.run.Emulator
	switch args[0] {
	case "invite":
		spec := emulator.InvitationSpec{Groups: []string{emulator.GroupKiosks}}
		for _, a := range args[2:] {
			switch {
			case strings.HasPrefix(a, "group="):
				spec.Groups = []string{strings.TrimPrefix(a, "group=")}
			case a == "existing-only":
				spec.ExistingClientsOnly = true
			case strings.HasPrefix(a, "only-client="):
				spec.OnlyClientID = strings.TrimPrefix(a, "only-client=")
			case a == "expired":
				spec.ValidUntil = s.now().Add(-time.Hour)
			default:
				ts.Fatalf("emu invite: unknown option %q", a)
			}
		}
		inv, err := e.CreateInvitation(spec)
		ts.Check(err)
		s.mu.Lock()
		s.links[args[1]] = inv.Token
		s.mu.Unlock()
		ts.Check(os.WriteFile(ts.MkAbs(args[1]+".link"), []byte(inv.Link+"\n"), 0o600))
		ts.Check(os.WriteFile(ts.MkAbs(args[1]+".token"), []byte(inv.Token), 0o600))
		mail := "Hello,\r\n\r\nyou are invited to Acme Devices. Open this on the device:\r\n<" + inv.Link + ">\r\n\r\nThanks\r\n"
		ts.Check(os.WriteFile(ts.MkAbs(args[1]+".mail"), []byte(mail), 0o600))
	case "state":
		s.mu.Lock()
		token := s.links[args[1]]
		s.mu.Unlock()
		st, ok := e.Invitation(token)
		if !ok {
			ts.Fatalf("no invitation %q", args[1])
		}
		if string(st.State) != args[2] {
			ts.Fatalf("invitation %s is %s, want %s", args[1], st.State, args[2])
		}
	case "fail":
		status, err := strconv.Atoi(args[2])
		ts.Check(err)
		f := emulator.Fault{Status: status}
		if len(args) > 3 {
			f.Body = strings.Join(args[3:], " ")
		}
		e.FailNext(args[1], f)
	case "drop":
		e.FailNext(args[1], emulator.Fault{DropAfterCommit: true})
	case "down", "up":
		e.SetDown(args[0] == "down")
	case "calls":
		want, err := strconv.Atoi(args[2])
		ts.Check(err)
		if got := e.Calls(args[1]); got != want {
			ts.Fatalf("%s calls = %d, want %d", args[1], got, want)
		}
	case "clients":
		want, err := strconv.Atoi(args[1])
		ts.Check(err)
		if got := len(e.Clients()); got != want {
			ts.Fatalf("clients = %d, want %d", got, want)
		}
	case "groups":
		want, err := strconv.Atoi(args[1])
		ts.Check(err)
		clients := e.Clients()
		if len(clients) != 1 || len(clients[0].Groups) != want {
			ts.Fatalf("want one client in %d groups, have %+v", want, len(clients))
		}
	case "stored":
		// The credentials file holds exactly what the service issued.
		var f struct{ ClientID, ClientSecret string }
		ts.Check(json.Unmarshal([]byte(ts.ReadFile(ts.Getenv("ENROLL_CREDENTIALS"))), &f))
		for _, c := range e.Clients() {
			if c.ClientID == f.ClientID {
				if c.ClientSecret != f.ClientSecret {
					ts.Fatalf("stored secret differs from the issued one")
				}
				return
			}
		}
		ts.Fatalf("stored client %q unknown to the emulator", f.ClientID)
	case "clock":
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		s.mu.Lock()
		s.offset += d
		s.mu.Unlock()
	case "outbox":
		// emu outbox N: the send call created N invitations, and no
		// address was sent two (enroll invite sent no duplicate).
		want, err := strconv.Atoi(args[1])
		ts.Check(err)
		sent, mailed := e.Outbox(), map[string]bool{}
		for _, inv := range sent {
			if inv.Email != "" && mailed[inv.Email] {
				ts.Fatalf("%s was sent two invitations", inv.Email)
			}
			mailed[inv.Email] = true
		}
		if len(sent) != want {
			ts.Fatalf("outbox holds %d invitations, want %d", len(sent), want)
		}
	case "throttle":
		// emu throttle OP SECONDS: the next OP answers 429 with Retry-After.
		e.FailNext(args[1], emulator.Fault{Status: 429, RetryAfter: args[2]})
	case "pass":
		// emu pass OP N: the next N OP calls are answered normally, ahead
		// of the faults queued after this.
		n, err := strconv.Atoi(args[2])
		ts.Check(err)
		for range n {
			e.FailNext(args[1], emulator.Fault{})
		}
	case "tokens":
		// emu tokens: the last command's stdout and stderr hold no token of
		// an invitation the send call created (noleak knows only emu invite's).
		for _, stream := range []string{"stdout", "stderr"} {
			out := ts.ReadFile(stream)
			for _, inv := range e.Outbox() {
				if strings.Contains(out, inv.Token) {
					ts.Fatalf("%s holds an invitation token", stream)
				}
			}
		}
	case "retry-after":
		status, err := strconv.Atoi(args[2])
		ts.Check(err)
		f := emulator.Fault{Status: status, RetryAfter: args[3]}
		if len(args) > 4 {
			f.Body = strings.Join(args[4:], " ")
		}
		e.FailNext(args[1], f)
	case "revoke":
		s.mu.Lock()
		token := s.links[args[1]]
		s.mu.Unlock()
		ts.Check(e.Revoke(token))
	default:
		ts.Fatalf("emu: unknown subcommand %q", args[0])
	}
}

// cmdNoLeak fails if the last command's stdout or stderr holds any
// invitation token or client secret the emulator ever issued.
func cmdNoLeak(ts *testscript.TestScript, neg bool, args []string) {
	s := emuOf(ts)
	var secrets []string
	s.mu.Lock()
	for _, tok := range s.links {
		secrets = append(secrets, tok)
	}
	s.mu.Unlock()
	for _, c := range s.run.Emulator.Clients() {
		secrets = append(secrets, c.ClientSecret)
	}
	for _, stream := range []string{"stdout", "stderr"} {
		out := ts.ReadFile(stream)
		for _, sec := range secrets {
			if sec != "" && strings.Contains(out, sec) {
				ts.Fatalf("%s leaks a secret or invitation token", stream)
			}
		}
	}
}

// cmdMode asserts a file's permission bits: mode FILE 0600.
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	if got := fi.Mode().Perm(); uint64(got) != want {
		ts.Fatalf("%s mode %o, want %o", args[0], got, want)
	}
}
