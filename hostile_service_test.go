package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"enroll/api/hostile"
)

// The hostile-service suite (issue 11): the real binary (this test binary
// re-executed as `enroll`) against a service that misbehaves on purpose
// (api/hostile: raw TCP where net/http would not misbehave enough), across
// discovery, the token endpoint, accept and decline. Every scenario
// asserts the same five things: the run ends within --timeout plus 2 s
// (and within 1 s of a signal); the exit code and the message; no raw
// terminal control on stdout or stderr; no invitation token or client
// secret in any encoding enroll sends them in; and the credentials file
// absent, intact, or exactly as issued at 0600.
//
// The scenarios are in hostile_service_*_test.go by the endpoint that
// misbehaves. SECURITY.md lists their classes with the guarantee each
// gives; TestSecurityListsTheHostileService keeps the two in step.

// The values no output may show, in any encoding. Each holds characters
// that form-, URL-, JSON- and base64-encoding change.
const (
	hsToken    = "INVITE+hostile/Tok=9~abc.def_0123456789"
	hsClientID = "cid hostile+1"
	hsSecret   = "st0red S3cret+/=&%41~x\"<y>"
	hsIssued   = "issued S3cret+/=&%42~z"
	hsAccess   = "AT-hostile-access-token-0123456789"
)

type fileWant int

const (
	fileAbsent fileWant = iota // no credentials file
	fileIntact                 // the enrolled device's file, byte for byte
	fileIssued                 // exactly what the hostile service issued
)

// hostileCase is one scenario. routes gets the hostile server's own URL
// (for answers that name it) and a second server standing for another
// host, which must never be sent anything.
type hostileCase struct {
	name, class string
	cmd         string // accept, decline, status (--verify), token
	enrolled    bool   // the device is enrolled with this server first
	storedName  string // the enrolled file's name, "lab" when empty
	json        bool
	timeout     time.Duration // --timeout; 3 s when zero
	tls         bool          // the server is silent and the URL https: a TLS handshake that never ends
	routes      func(self, other string) hostile.Routes
	signal      os.Signal // sent once the server accepted signalAt connections
	signalAt    int
	exit        int
	says        []string // patterns the output (stdout and stderr) must match
	lacks       []string // patterns it must not match
	file        fileWant
	check       func(t *testing.T, o hostileRun) // anything more
}

// hostileRun is what one scenario's run left behind.
type hostileRun struct {
	err            error // the harness's own trouble
	code           int
	stdout, stderr string
	took           time.Duration // start to exit
	afterSignal    time.Duration // signal to exit, when one was sent
	dir, creds     string
	old            []byte // the enrolled file as written before the run
	server, other  *hostile.Server
}

func (o hostileRun) all() string { return o.stdout + o.stderr }

// hostileCases gathers the scenarios of every endpoint.
func hostileCases() []hostileCase {
	return slices.Concat(hostileAcceptCases(), hostileAnswerCases(), hostileTokenCases(), hostileDiscoveryCases(), hostileDeclineCases())
}

func TestHostileService(t *testing.T) {
	cases := hostileCases()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The runs wait on timeouts far more than they compute: all of them
	// run at once, a few at a time more than go test's -parallel allows.
	runs := make([]hostileRun, len(cases))
	dirs := make([]string, len(cases))
	for i := range cases {
		dirs[i] = t.TempDir()
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, 16)
	for i, hc := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			runs[i] = hc.run(exe, dirs[i])
		}()
	}
	wg.Wait()
	if os.Getenv("HOSTILE_TABLE") != "" { // the table of the closing note and SECURITY.md
		fmt.Println("| scenario | --timeout | exit | wall time |\n|---|---|---|---|")
		for i, hc := range cases {
			fmt.Printf("| %s | %v | %d | %v |\n", hc.name, hc.limit(), runs[i].code, runs[i].took.Round(10*time.Millisecond))
		}
	}
	seen := map[string]bool{}
	for i, hc := range cases {
		if seen[hc.name] {
			t.Fatalf("two scenarios named %q", hc.name)
		}
		seen[hc.name] = true
		t.Run(hc.name, func(t *testing.T) { hc.verify(t, runs[i]) })
	}
}

func (hc hostileCase) limit() time.Duration {
	switch {
	case hc.timeout != 0:
		return hc.timeout
	case hc.class == hsSwitch, hc.class == hsStall, hc.class == hsEndless, hc.class == hsWait, hc.class == hsSignal, hc.class == hsBroken:
		return 3 * time.Second // these wait for it: short, so the suite is
	}
	// The rest must not reach it: a machine loaded by the race detector and
	// a parallel build must not turn their answers into timeouts.
	return 15 * time.Second
}

// run starts the servers, writes the device's state, runs enroll once and
// collects what it did. It does not touch testing.T: it runs beside the
// other scenarios, and verify judges it afterwards.
func (hc hostileCase) run(exe, dir string) (o hostileRun) {
	o.dir = dir
	o.creds = filepath.Join(dir, "enroll", "credentials.json")
	other, err := hostile.Start(hostile.Routes{})
	if err != nil {
		return hostileRun{err: err}
	}
	defer other.Close()
	o.other = other
	var routes hostile.Routes
	if hc.tls {
		o.server, err = hostile.Silent()
	} else {
		o.server, err = hostile.Start(hostile.Routes{}) // routes are set below, once the URL is known
	}
	if err != nil {
		return hostileRun{err: err}
	}
	defer o.server.Close()
	server := o.server.URL
	if hc.tls {
		server = "https://" + o.server.Addr()
	} else {
		routes = wellBehaved(server)
		if hc.routes != nil {
			for k, h := range hc.routes(server, other.URL) {
				routes[k] = h
			}
		}
		o.server.SetRoutes(routes)
	}
	if hc.enrolled {
		if o.old, err = writeEnrolled(o.creds, server, hc.storedName); err != nil {
			return hostileRun{err: err}
		}
	}
	tokenFile := filepath.Join(dir, "invitation.txt")
	if err := os.WriteFile(tokenFile, []byte(hsToken+"\n"), 0o600); err != nil {
		return hostileRun{err: err}
	}
	args := []string{"enroll", hc.cmd, "--verbose", "--timeout", hc.limit().String()}
	switch hc.cmd {
	case "accept", "decline":
		args = append(args, "--server", server, "--token-file", tokenFile)
	case "status":
		args = append(args, "--verify")
	}
	if hc.json {
		args = append(args, "--json")
	}
	var stdout, stderr syncBuffer
	cmd := &exec.Cmd{Path: exe, Args: args, Stdout: &stdout, Stderr: &stderr, Env: []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + dir, "LANG=C.UTF-8",
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "ENROLL_CREDENTIALS=" + o.creds,
		"ENROLL_DEFAULTS=" + filepath.Join(dir, "no-defaults"),
		"GORACE=atexit_sleep_ms=0 " + os.Getenv("GORACE"),
	}}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return hostileRun{err: err}
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	guard := time.After(hc.limit() + 15*time.Second) // a hang is reported, not waited out
	var signalled time.Time
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
wait:
	for {
		select {
		case <-exited:
			break wait
		case <-guard:
			_ = cmd.Process.Kill()
			<-exited
			o.err = fmt.Errorf("still running after %v; killed", time.Since(start).Round(time.Millisecond))
			break wait
		case <-poll.C:
			if hc.signal != nil && signalled.IsZero() && o.server.Conns() >= hc.signalAt {
				time.Sleep(100 * time.Millisecond) // into the wait that connection began
				signalled = time.Now()
				_ = cmd.Process.Signal(hc.signal)
			}
		}
	}
	o.took = time.Since(start)
	if !signalled.IsZero() {
		o.afterSignal = time.Since(signalled)
	}
	o.code = cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		o.code = 128 + int(ws.Signal())
	}
	o.stdout, o.stderr = stdout.String(), stderr.String()
	return o
}
