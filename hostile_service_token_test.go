package main

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"enroll/api/hostile"
)

// Scenarios of an enrolled device's token endpoint and discovery document,
// through `enroll status --verify` and `enroll token`: the file is never
// touched by them.

func hostileTokenCases() []hostileCase {
	status := func(hc hostileCase) hostileCase {
		hc.enrolled, hc.file = true, fileIntact
		if hc.cmd == "" {
			hc.cmd = "status"
		}
		return hc
	}
	return []hostileCase{
		status(hostileCase{name: "token: never answers (--timeout 10s)", class: hsStall, timeout: 10 * time.Second,
			routes: one(routeToken, hostile.Hang()), exit: 5, says: []string{`token: the service did not answer within the time limit \(--timeout\)`}}),
		status(hostileCase{name: "token: 101 then a trickle", class: hsSwitch,
			routes: one(routeToken, switchTrickle), exit: 5, says: []string{`101 Switching Protocols, which enroll cannot use`}}),
		status(hostileCase{name: "token: headers that never end", class: hsStall,
			routes: one(routeToken, endlessHeaders), exit: 5}),
		status(hostileCase{name: "token: 503 asking to wait 3 years", class: hsWait,
			routes: one(routeToken, hostile.Respond(503, http.Header{"Retry-After": {"99999999"}}, "")), exit: 5,
			says: []string{`the service asks to wait 3 years; giving up: enroll waits at most 1 minute`}, lacks: []string{`retrying`},
			check: requests(routeToken, 2)}), // one attempt: Basic, then the form
		status(hostileCase{name: "token: 429 with a Retry-After in year 9999 (enroll token)", class: hsWait, cmd: "token",
			routes: one(routeToken, hostile.Respond(429, http.Header{"Retry-After": {"Fri, 31 Dec 9999 23:59:59 GMT"}}, "")), exit: 5,
			says: []string{`asks to wait more than 292 years; giving up`}}),
		status(hostileCase{name: "token: 503 asking to wait longer than --timeout leaves", class: hsWait,
			routes: one(routeToken, hostile.Respond(503, http.Header{"Retry-After": {"10"}}, "")), exit: 5,
			says: []string{`asks to wait 10 seconds; giving up: the time limit \(--timeout\) leaves [0-9]+ seconds?`}}),
		status(hostileCase{name: "token: 401 echoing the form body and the Authorization header", class: hsEcho,
			routes: one(routeToken, echoJSON(401, "invalid_client")), exit: 4, says: []string{`\[redacted\]`, `refused this device's stored credentials`}}),
		status(hostileCase{name: "token: 400 echoing the request as text (--json)", class: hsEcho, json: true,
			routes: one(routeToken, echoText(400)), exit: 5, says: []string{`\[redacted\]`}}),
		status(hostileCase{name: "token: 500 echoing the request (enroll token --json)", class: hsEcho, cmd: "token", json: true,
			routes: one(routeToken, echoJSON(500, "server_error")), exit: 5, says: []string{`\[redacted\]`}}),
		status(hostileCase{name: "token: reset after every request", class: hsBroken,
			routes: one(routeToken, hostile.Reset()), exit: 5, says: []string{`could not be reached`}}),
		status(hostileCase{name: "token: a body that never ends", class: hsEndless,
			routes: one(routeToken, endlessChunks), exit: 5}),
		status(hostileCase{name: "token: a gzip bomb", class: hsHuge,
			routes: one(routeToken, bomb()), exit: 5}),
		status(hostileCase{name: "token: SIGINT while it hangs", class: hsSignal,
			routes: one(routeToken, hostile.Hang()), signal: syscall.SIGINT, signalAt: 2, exit: 130, says: []string{`Interrupted`}}),
	}
}

func hostileDiscoveryCases() []hostileCase {
	status := func(hc hostileCase) hostileCase {
		hc.cmd, hc.enrolled, hc.file = "status", true, fileIntact
		return hc
	}
	docNaming := func(url func(self, other string) string) func(self, other string) hostile.Routes {
		return func(self, other string) hostile.Routes {
			return hostile.Routes{routeDiscovery: hostile.JSON(200, `{"token_endpoint":"`+url(self, other)+`"}`)}
		}
	}
	refused := []string{`another origin`, `The service names a token endpoint that this device's secret must not be sent to`}
	return []hostileCase{
		status(hostileCase{name: "discovery: never answers", class: hsStall,
			routes: one(routeDiscovery, hostile.Hang()), exit: 5, says: []string{`did not answer within the time limit`}}),
		status(hostileCase{name: "discovery: a TLS handshake that never ends", class: hsStall, tls: true, exit: 5}),
		status(hostileCase{name: "discovery: 101 then a trickle", class: hsSwitch,
			routes: one(routeDiscovery, switchTrickle), exit: 5}),
		status(hostileCase{name: "discovery: 503 asking to wait 3 years", class: hsWait,
			routes: one(routeDiscovery, hostile.Respond(503, http.Header{"Retry-After": {"99999999"}}, "")), exit: 5,
			says: []string{`discovery: the service answered 503 Service Unavailable; the service asks to wait 3 years; giving up`}}),
		status(hostileCase{name: "discovery: a redirect loop", class: hsBroken,
			routes: one(routeDiscovery, hostile.Respond(302, http.Header{"Location": {"/user/.well-known/openid-configuration"}}, "")), exit: 5,
			says: []string{`redirected more than 5 times`}}),
		status(hostileCase{name: "discovery: a token endpoint on another host", class: hsOrigin,
			routes: docNaming(func(_, other string) string { return other + "/user/oauth20/token" }), exit: 5, says: refused, check: otherGotNothing}),
		status(hostileCase{name: "discovery: a token endpoint on this host over https", class: hsOrigin,
			routes: docNaming(func(self, _ string) string { return strings.Replace(self, "http:", "https:", 1) + "/t" }), exit: 5, says: refused,
			check: requests(routeToken, 0)}),
		status(hostileCase{name: "discovery: a document that never ends", class: hsEndless,
			routes: one(routeDiscovery, endlessChunks), exit: 5}),
		status(hostileCase{name: "discovery: a 2 MiB document", class: hsHuge,
			routes: one(routeDiscovery, hostile.JSON(200, `{"x":"`+strings.Repeat("d", 2<<20)+`"}`)), exit: 0,
			says: []string{`verified +the service issued an access token`}}),
		status(hostileCase{name: "discovery: SIGINT during a TLS handshake that never ends", class: hsSignal, tls: true,
			signal: syscall.SIGINT, signalAt: 1, exit: 130}),
		status(hostileCase{name: "discovery: SIGTERM while it never answers", class: hsSignal,
			routes: one(routeDiscovery, hostile.Hang()), signal: syscall.SIGTERM, signalAt: 1, exit: 130}),
	}
}

// requests checks how many requests reached a route.
func requests(route string, want int) func(t *testing.T, o hostileRun) {
	return func(t *testing.T, o hostileRun) {
		n := 0
		for _, r := range o.server.Requests() {
			if r.Method+" "+r.Path == route {
				n++
			}
		}
		if n != want {
			t.Errorf("%d requests to %s, want %d", n, route, want)
		}
	}
}

func hostileDeclineCases() []hostileCase {
	return []hostileCase{
		{name: "decline: SIGTERM while connecting (a TLS handshake that never ends)", class: hsSignal, cmd: "decline", tls: true,
			signal: syscall.SIGTERM, signalAt: 1, exit: 130, says: []string{`Nothing was sent`}},
		{name: "decline: 101 then a trickle", class: hsSwitch, cmd: "decline",
			routes: one(routeDecline, switchTrickle), exit: 7, says: []string{`not known whether it took effect`}},
		{name: "decline: never answered", class: hsStall, cmd: "decline",
			routes: one(routeDecline, hostile.Hang()), exit: 7, says: []string{`no answer came within the time limit`}},
		{name: "decline: reset after the request", class: hsBroken, cmd: "decline",
			routes: one(routeDecline, hostile.Reset()), exit: 7},
		{name: "decline: 500 echoing the request", class: hsEcho, cmd: "decline", json: true,
			routes: one(routeDecline, echoJSON(500, "server_error")), exit: 5, says: []string{`\[redacted\]`}},
		{name: "decline: 307 to another host", class: hsOrigin, cmd: "decline",
			routes: redirectTo(http.StatusTemporaryRedirect), exit: 5, check: otherGotNothing},
		{name: "decline: 429 asking to wait 3 years", class: hsWait, cmd: "decline",
			routes: one(routeDecline, hostile.Respond(429, http.Header{"Retry-After": {"99999999"}}, "")), exit: 5,
			says: []string{`asks to wait 3 years`}},
	}
}
