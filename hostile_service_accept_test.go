package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"enroll/api/hostile"
)

// Scenarios where the accept call's transport misbehaves: a new device
// (no file before, none after) unless they say "enrolled".

const (
	switchHead = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
	chunkHead  = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
)

// Misbehaviours shared by the endpoints' scenarios.
var (
	switchTrickle  = hostile.Trickle(switchHead, "x", 100*time.Millisecond)
	endlessHeaders = hostile.Trickle("HTTP/1.1 200 OK\r\nX-Slow: ", "a", 100*time.Millisecond)
	endlessChunks  = hostile.Trickle(chunkHead, "1\r\n \r\n", 20*time.Millisecond)
	endless1xx     = hostile.Trickle("", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", 2*time.Millisecond)
	echoJSON       = func(status int, code string) hostile.Handler {
		return hostile.Echo(status, "application/json", `{"error":"`+code+`","error_description":"you sent {{body}} with {{auth}}"}`, jsonInner)
	}
	echoText = func(status int) hostile.Handler {
		return hostile.Echo(status, "text/plain", "you sent {{body}} with {{auth}}", func(s string) string { return s })
	}
)

func jsonInner(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }

// redirectTo sends the request on to the other host.
func redirectTo(status int) func(self, other string) hostile.Routes {
	return func(self, other string) hostile.Routes {
		return hostile.Routes{
			routeAccept:  hostile.Respond(status, http.Header{"Location": {other + "/collect?token=" + hsToken}}, ""),
			routeDecline: hostile.Respond(status, http.Header{"Location": {other + "/collect"}}, ""),
		}
	}
}

// otherGotNothing checks that the other host was never sent anything.
func otherGotNothing(t *testing.T, o hostileRun) {
	if n := len(o.other.Requests()); n != 0 {
		t.Errorf("the other host received %d requests", n)
	}
}

// noAccept checks that the accept call was never made.
func noAccept(t *testing.T, o hostileRun) {
	for _, r := range o.server.Requests() {
		if r.Method+" "+r.Path == routeAccept {
			t.Errorf("the accept call was made")
		}
	}
}

// setAside checks that the answer was kept, out of the way of later runs,
// and holds want byte for byte (nil: anything).
func setAside(want []byte) func(t *testing.T, o hostileRun) {
	return func(t *testing.T, o hostileRun) {
		found, _ := filepath.Glob(filepath.Join(filepath.Dir(o.creds), "credentials.json.pending.unreadable-*"))
		if len(found) != 1 {
			t.Fatalf("set-aside answers: %v", found)
		}
		b, err := os.ReadFile(found[0])
		if err != nil {
			t.Fatal(err)
		}
		var j struct{ Raw []byte }
		if err := json.Unmarshal(b, &j); err != nil {
			t.Fatalf("set-aside journal: %v", err)
		}
		if want != nil && !bytes.Equal(j.Raw, want) {
			t.Errorf("the set-aside answer is not the one received (%d bytes, want %d)", len(j.Raw), len(want))
		}
	}
}

// gzipBomb is 10 MiB of JSON-looking text compressed to a few KiB.
var gzipBomb = sync.OnceValue(func() string {
	var b bytes.Buffer
	z, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = z.Write([]byte(`{"id":"`))
	_, _ = z.Write(bytes.Repeat([]byte("0"), 10<<20))
	_ = z.Close()
	return b.String()
})

func bomb() hostile.Handler {
	return func(c *hostile.Conn, r *hostile.Request) {
		hostile.Respond(200, http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}, gzipBomb())(c, r)
	}
}

func hostileAcceptCases() []hostileCase {
	unknown := []string{`not known whether it took effect`, `enroll status`}
	return []hostileCase{
		{name: "accept: 101 then a trickle (--timeout 5s)", class: hsSwitch, cmd: "accept", timeout: 5 * time.Second,
			routes: one(routeAccept, switchTrickle), exit: 7,
			says: append([]string{`101 Switching Protocols, which enroll cannot use`}, unknown...), lacks: []string{`Nothing changed`}},
		{name: "accept: 101 and nothing after it", class: hsSwitch, cmd: "accept", json: true,
			routes: one(routeAccept, hostile.Raw(switchHead)), exit: 7, says: []string{`"kind": "outcome-unknown"`}},
		{name: "accept: never answered", class: hsStall, cmd: "accept",
			routes: one(routeAccept, hostile.Hang()), exit: 7,
			says: append([]string{`no answer came within the time limit \(--timeout\)`}, unknown...)},
		// No limit of the transport's own cuts a slow answer off before
		// --timeout (the header limit was 20 s once).
		{name: "accept: never answered (--timeout 25s)", class: hsStall, cmd: "accept", timeout: 25 * time.Second,
			routes: one(routeAccept, hostile.Hang()), exit: 7, says: []string{`no answer came within the time limit`},
			check: func(t *testing.T, o hostileRun) {
				if o.took < 24*time.Second {
					t.Errorf("gave up after %v, before --timeout", o.took.Round(time.Millisecond))
				}
			}},
		{name: "accept: a status HTTP does not define (999)", class: hsBroken, cmd: "accept",
			routes: one(routeAccept, hostile.Raw("HTTP/1.1 999 Whatever\r\nContent-Length: 2\r\n\r\n{}")), exit: 7,
			says: append([]string{`999, which enroll cannot use`}, unknown...), lacks: []string{`Nothing changed`}},
		{name: "accept: SIGINT while connecting (a TLS handshake that never ends)", class: hsSignal, cmd: "accept", tls: true,
			signal: syscall.SIGINT, signalAt: 1, exit: 130, says: []string{`Nothing was sent`}},
		{name: "accept: headers that never end", class: hsStall, cmd: "accept",
			routes: one(routeAccept, endlessHeaders), exit: 7, says: unknown},
		{name: "accept: reset after the request", class: hsBroken, cmd: "accept",
			routes: one(routeAccept, hostile.Reset()), exit: 7, says: unknown},
		{name: "accept: closed without an answer", class: hsBroken, cmd: "accept",
			routes: one(routeAccept, hostile.Raw("")), exit: 7, says: unknown},
		{name: "accept: a garbage status line", class: hsBroken, cmd: "accept",
			routes: one(routeAccept, hostile.Raw("HELLO \x1b[2J\r\n\r\n")), exit: 7, says: unknown},
		{name: "accept: endless 103 Early Hints", class: hsBroken, cmd: "accept",
			routes: one(routeAccept, endless1xx), exit: 7, says: unknown},
		{name: "accept: 200 with bad chunking", class: hsBroken, cmd: "accept",
			routes: one(routeAccept, hostile.Raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")),
			exit:   7, says: []string{`cannot read`, `unreadable-`}, check: setAside(nil)},
		{name: "accept: 200 with a body shorter than its length", class: hsBroken, cmd: "accept",
			routes: one(routeAccept, hostile.Raw("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"id\":\"dev")),
			exit:   7, says: []string{`cannot read`}, check: setAside([]byte(`{"id":"dev`))},
		{name: "accept: 200 with a body that never ends", class: hsEndless, cmd: "accept",
			routes: one(routeAccept, endlessChunks), exit: 7, says: []string{`cannot read`}, check: setAside(nil)},
		{name: "accept: a 2 MiB answer", class: hsHuge, cmd: "accept",
			routes: one(routeAccept, hostile.JSON(200, `{"id":"`+strings.Repeat("x", 2<<20)+`"}`)), exit: 7,
			says: []string{`cannot read`}, check: setAside([]byte(`{"id":"` + strings.Repeat("x", 1<<20-7)))},
		{name: "accept: a gzip bomb", class: hsHuge, cmd: "accept",
			routes: one(routeAccept, bomb()), exit: 7, says: []string{`cannot read`}, check: setAside(nil)},
		{name: "accept: 100 KiB of headers", class: hsHuge, cmd: "accept",
			routes: one(routeAccept, hostile.Raw("HTTP/1.1 200 OK\r\n"+strings.Repeat("X-Pad: "+strings.Repeat("p", 1000)+"\r\n", 100)+"\r\n{}")),
			exit:   7, says: unknown},
		{name: "accept: 500 echoing the request as JSON", class: hsEcho, cmd: "accept", json: true,
			routes: one(routeAccept, echoJSON(500, "server_error")), exit: 5, says: []string{`\[redacted\]`, `safe to try again`}},
		{name: "accept: 400 echoing the request as text", class: hsEcho, cmd: "accept",
			routes: one(routeAccept, echoText(400)), exit: 3, says: []string{`does not know this invitation`, `\[redacted\]`}},
		{name: "accept: the token in the status line's reason phrase", class: hsEcho, cmd: "accept",
			routes: one(routeAccept, hostile.Raw("HTTP/1.1 500 "+hsToken+"\r\nContent-Length: 0\r\n\r\n")), exit: 5,
			says: []string{`500 Internal Server Error`}},
		{name: "accept: 429 asking to wait 3 years", class: hsWait, cmd: "accept",
			routes: one(routeAccept, hostile.Respond(429, http.Header{"Retry-After": {"99999999"}}, `{"error":"slow_down"}`)), exit: 5,
			says: []string{`the service asks to wait 3 years`}},
		{name: "accept: 410 with a Retry-After", class: hsWait, cmd: "accept",
			routes: one(routeAccept, hostile.Respond(410, http.Header{"Retry-After": {"120"}}, `{"error":"expired"}`)), exit: 3,
			says: []string{`expired or was revoked`}, lacks: []string{`wait`}},
		{name: "accept: 307 to another host", class: hsOrigin, cmd: "accept",
			routes: redirectTo(http.StatusTemporaryRedirect), exit: 5, says: []string{`a redirect to http://127\.0\.0\.1:\d+; check --server`},
			check: otherGotNothing},
		{name: "accept (enrolled): the token endpoint switches protocols", class: hsSwitch, cmd: "accept", enrolled: true,
			routes: one(routeToken, switchTrickle), exit: 5, file: fileIntact, check: noAccept},
		{name: "accept (enrolled): discovery names a token endpoint on another host", class: hsOrigin, cmd: "accept", enrolled: true,
			routes: func(self, other string) hostile.Routes {
				return hostile.Routes{routeDiscovery: hostile.JSON(200, `{"token_endpoint":"`+other+`/user/oauth20/token"}`)}
			},
			exit: 5, says: []string{`another origin`, `only to http://127\.0\.0\.1:\d+, the server it belongs to`}, file: fileIntact,
			check: func(t *testing.T, o hostileRun) { otherGotNothing(t, o); noAccept(t, o) }},
		{name: "accept (enrolled): the token endpoint never answers", class: hsStall, cmd: "accept", enrolled: true,
			routes: one(routeToken, hostile.Hang()), exit: 5, says: []string{`did not answer within the time limit`}, lacks: []string{`Interrupted`},
			file: fileIntact, check: noAccept},
		{name: "accept (enrolled): the token endpoint answers the invitation token as its status line", class: hsEcho, cmd: "accept", enrolled: true,
			routes: one(routeToken, hostile.Raw(hsToken+"\r\n\r\n")), exit: 5, file: fileIntact, check: noAccept},
		{name: "accept (enrolled): SIGTERM while the token endpoint hangs", class: hsSignal, cmd: "accept", enrolled: true,
			routes: one(routeToken, hostile.Hang()), signal: syscall.SIGTERM, signalAt: 2, exit: 130,
			says: []string{`Interrupted`}, file: fileIntact, check: noAccept},
	}
}
