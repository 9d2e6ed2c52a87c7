package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"enroll/flow"
)

// The verbose log never holds a secret, even one the service echoes that
// the call did not send: an invitation quoted by the token endpoint, or a
// token put into a status line's reason phrase.
func TestVerboseLogHoldsNoEchoedSecret(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, strings.TrimSpace(fmt.Sprintf(format, args...)))
	}
	echo := `{"error":"temporarily_unavailable","error_description":"busy with ` + secretToken + ` and ` + clientSecret + `"}`
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			r.Body.Close()
		}
		if r.URL.Path == PathDiscovery {
			return answerOf(r, 404, "", nil), nil
		}
		resp := answerOf(r, 503, "application/json", []byte(echo))
		resp.Status = "503 busy with " + secretToken
		return resp, nil
	})
	c := New(Options{HTTP: &http.Client{Transport: rt}, Logf: logf, MaxAttempts: 2,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if _, err := c.Authenticate(context.Background(), "https://idp.example.com", creds); err == nil {
		t.Fatal("Authenticate succeeded")
	}
	if _, err := c.Accept(context.Background(), flow.AcceptRequest{Server: "https://idp.example.com", Token: "another-invitation-token"}); err == nil {
		t.Fatal("Accept succeeded")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) < 4 {
		t.Fatalf("too few log lines: %q", lines)
	}
	for _, l := range lines {
		if strings.Contains(l, secretToken) || strings.Contains(l, clientSecret) || strings.Contains(l, "INVITE-") || flow.Sanitize(l) != l {
			t.Errorf("log line %q", l)
		}
	}
	if !strings.Contains(strings.Join(lines, "\n"), "503 Service Unavailable") {
		t.Errorf("the status is not logged: %q", lines)
	}
}
