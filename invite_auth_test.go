package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"enroll/api"
	"enroll/api/emulator"
	"enroll/flow"
	"enroll/persist/durable"
)

// integrationService stands in front of the emulator with what it lacks:
// an integration client whose client-credentials token may send
// invitations. Its first token is stale (the send call answers 401), so a
// long run's renewal is exercised too.
type integrationService struct {
	tokens atomic.Int32
}

func (s *integrationService) handler(t *testing.T, emu *emulator.Running) http.Handler {
	target, _ := url.Parse(emu.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case api.PathDiscovery:
			http.NotFound(w, r) // the default token path, here, not the emulator's
		case api.PathToken:
			id, secret, _ := r.BasicAuth()
			if err := r.ParseForm(); err == nil && id == "" {
				id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
			}
			w.Header().Set("Content-Type", "application/json")
			if id != "integration" || secret != "s3cret" {
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"error":"invalid_client","error_description":"Client authentication failed."}`))
				return
			}
			tok := rigAdmin
			if s.tokens.Add(1) == 1 {
				tok = "stale-token"
			}
			json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
		default:
			if r.Header.Get("Authorization") == "Bearer stale-token" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"error":"invalid_token","error_description":"The access token expired."}`))
				return
			}
			proxy.ServeHTTP(w, r)
		}
	})
}

func TestInviteIntegrationClient(t *testing.T) {
	for _, tc := range []struct {
		name   string
		secret string
		exit   int
		tokens int32
		outbox int
	}{
		{name: "token renewed after a 401", secret: "s3cret", tokens: 2, outbox: 5},
		{name: "secret refused", secret: "wrong", exit: flow.ExitDevice, tokens: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newInviteRig(t)
			svc := &integrationService{}
			front := httptest.NewServer(svc.handler(t, r.run))
			defer front.Close()
			r.vars["ENROLL_SERVER"], r.vars["ENROLL_ADMIN_TOKEN"] = front.URL, ""
			secret := r.file("secret.txt", tc.secret+"\n")
			code, out, errOut := r.invite(context.Background(), r.hooks(), "--from", r.csv("d.csv", 5), "--rate", "0", "--concurrency", "1",
				"--admin-client-id", "integration", "--admin-client-secret-file", secret)
			if code != tc.exit || svc.tokens.Load() != tc.tokens || len(r.run.Emulator.Outbox()) != tc.outbox {
				t.Fatalf("exit %d, %d tokens, outbox %d\n%s%s", code, svc.tokens.Load(), len(r.run.Emulator.Outbox()), out, errOut)
			}
			if strings.Contains(out+errOut, tc.secret) {
				t.Error("the client secret was printed")
			}
			if tc.exit != 0 && !strings.Contains(errOut, "integration client's credentials") {
				t.Errorf("stderr does not say whose credentials:\n%s", errOut)
			}
		})
	}
}

func TestInviteSecretsNeverFromArgv(t *testing.T) {
	r := newInviteRig(t)
	r.vars["ENROLL_ADMIN_TOKEN"] = ""
	for _, args := range [][]string{
		{"--admin-client-id", "integration"}, // no secret file
		{"--admin-client-secret-file", r.file("s", "x")},
		{"--admin-token-file", r.file("two-lines", "a\nb\n")},
		{"--admin-token-file", r.file("empty", "\n")},
	} {
		code, _, errOut := r.invite(context.Background(), r.hooks(), append(args, "--group", "g", "--email", "a@example.com")...)
		if code != flow.ExitUsage {
			t.Errorf("%v: exit %d:\n%s", args, code, errOut)
		}
	}
	if n := r.run.Emulator.Calls(emulator.OpSend); n != 0 {
		t.Errorf("%d sends", n)
	}
}

func TestInviteResultsFileInUse(t *testing.T) {
	r := newInviteRig(t)
	csv := r.csv("d.csv", 2)
	held, err := durable.OpenLog(csv + ".results.jsonl") // another run's lock
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	code, _, errOut := r.invite(context.Background(), r.hooks(), "--from", csv)
	if code != flow.ExitStore || !strings.Contains(errOut, "another enroll invite") || r.run.Emulator.Calls(emulator.OpSend) != 0 {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
}

// --rate is a ceiling: 6 rows at 20 a second cannot take less than the 5
// gaps between them, however many workers there are. (Only a lower bound
// is checked: a slow machine may take longer.)
func TestInviteRateLimit(t *testing.T) {
	r := newInviteRig(t)
	start := time.Now()
	code, _, errOut := r.invite(context.Background(), r.hooks(), "--from", r.csv("d.csv", 6), "--rate", "20", "--concurrency", "6")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if took := time.Since(start); took < 5*time.Second/20 {
		t.Errorf("6 rows at --rate 20 took %s", took)
	}
}

// On a terminal: a progress bar on stderr, the rows that need attention
// above it, nothing on stdout; no JSON lines.
func TestInviteProgressBar(t *testing.T) {
	for _, tc := range []struct {
		name, lang, glyph string
	}{{"UTF-8 blocks", "C.UTF-8", "█"}, {"ASCII where blocks cannot show", "C", "#"}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newInviteRig(t)
			r.tty = true
			r.vars["TERM"], r.vars["LANG"], r.vars["NO_COLOR"] = "xterm", tc.lang, "1"
			csv := r.file("d.csv", "email,groups\na@example.com,grp-kiosks\nb@example.com,grp-nope\nc@example.com,grp-lab\n")
			code, out, errOut := r.invite(context.Background(), r.hooks(), "--from", csv, "--rate", "0", "--concurrency", "1")
			if code != flow.ExitRefused || out != "" {
				t.Fatalf("exit %d, stdout %q", code, out)
			}
			for _, want := range []string{tc.glyph, "3/3", "line 3 (b@example.com): refused", "enroll: 3 rows: 2 sent, 1 failed."} {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			if strings.Contains(errOut, "\x1b[3") || strings.Contains(errOut, "\x1b[9") {
				t.Errorf("colour under NO_COLOR:\n%q", errOut)
			}
		})
	}
}
