package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"enroll/api/hostile"
)

// verify judges one run.
func (hc hostileCase) verify(t *testing.T, o hostileRun) {
	if o.err != nil {
		t.Fatalf("%v\nstderr:\n%s", o.err, short(o.stderr))
	}
	if max := hc.limit() + 2*time.Second; o.took > max {
		t.Errorf("took %v, more than --timeout plus 2 s (%v)", o.took.Round(time.Millisecond), max)
	}
	if hc.signal != nil && (o.afterSignal == 0 || o.afterSignal > time.Second) {
		t.Errorf("%v after the signal (or none was sent), want at most 1 s", o.afterSignal.Round(time.Millisecond))
	}
	if o.code != hc.exit {
		t.Errorf("exit %d, want %d", o.code, hc.exit)
	}
	for _, p := range hc.says {
		if !regexp.MustCompile(p).MatchString(o.all()) {
			t.Errorf("output lacks %q:\n%s", p, o.all())
		}
	}
	for _, p := range hc.lacks {
		if regexp.MustCompile(p).MatchString(o.all()) {
			t.Errorf("output holds %q", p)
		}
	}
	for _, out := range []string{o.stdout, o.stderr} {
		if r, ok := terminalControl(out); ok {
			t.Errorf("output holds %U", r)
		}
	}
	for _, sec := range []string{hsToken, hsSecret, hsIssued} {
		for _, form := range sentForms(sec) {
			if strings.Contains(o.all(), form) {
				t.Errorf("output holds a secret (%.6s…) as %q", sec, form)
			}
		}
	}
	// The access token is printed by `enroll token` on stdout, for the
	// script that asked; never anywhere else.
	if where := o.stderr; strings.Contains(where, hsAccess) || hc.cmd != "token" && strings.Contains(o.stdout, hsAccess) {
		t.Errorf("the access token was printed")
	}
	if hc.json {
		var v map[string]any
		dec := json.NewDecoder(strings.NewReader(o.stdout))
		if err := dec.Decode(&v); err != nil || dec.More() {
			t.Errorf("stdout is not one JSON object (%v)", err)
		}
	}
	hc.verifyFile(t, o)
	if hc.check != nil {
		hc.check(t, o)
	}
	if t.Failed() {
		t.Logf("took %v; stdout:\n%s\nstderr:\n%s", o.took.Round(time.Millisecond), short(o.stdout), short(o.stderr))
	}
}

func (hc hostileCase) verifyFile(t *testing.T, o hostileRun) {
	got, err := os.ReadFile(o.creds)
	switch hc.file {
	case fileAbsent:
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a credentials file exists (%v)", err)
		}
		return
	case fileIntact:
		if err != nil || !bytes.Equal(got, o.old) {
			t.Errorf("the credentials file changed (%v):\n%s", err, got)
		}
	case fileIssued:
		var f struct {
			Version                                  int
			Server, ID, ClientID, ClientSecret, Name string
		}
		if err != nil || json.Unmarshal(got, &f) != nil {
			t.Fatalf("no readable credentials file (%v)", err)
		}
		if f.Version != 1 || f.ID != "dev-hostile-1" || f.ClientID != hsClientID || f.ClientSecret != hsIssued || f.Server != o.server.URL {
			t.Errorf("the file does not hold what was issued: %s", got)
		}
	}
	if fi, err := os.Stat(o.creds); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode: %v %v", fi.Mode(), err)
	}
}

// sentForms are the encodings a secret travels in, written out here
// independently of enroll's own list (flow.SecretForms), so that a form
// that list forgets fails this suite: as it is, form- and URL-encoded
// (upper- and lower-case hex), JSON-escaped (with and without HTML
// escapes), base64 in both alphabets, and inside HTTP Basic credentials.
func sentForms(s string) []string {
	q, p := url.QueryEscape(s), url.PathEscape(s)
	j1, _ := json.Marshal(s)
	var j2 bytes.Buffer
	enc := json.NewEncoder(&j2)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	forms := []string{s, q, p, lowerPercent(q), lowerPercent(p),
		string(j1[1 : len(j1)-1]), strings.TrimSpace(j2.String())[1 : len(strings.TrimSpace(j2.String()))-1],
		base64.StdEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s)),
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(hsClientID) + ":" + q)),
		base64.StdEncoding.EncodeToString([]byte(hsClientID + ":" + s)),
	}
	return forms
}

var percentHex = regexp.MustCompile(`%[0-9A-F]{2}`)

func lowerPercent(s string) string { return percentHex.ReplaceAllStringFunc(s, strings.ToLower) }

// wellBehaved are the routes of a service that works; a scenario replaces
// the one that misbehaves.
func wellBehaved(self string) hostile.Routes {
	return hostile.Routes{
		"GET /user/.well-known/openid-configuration": hostile.JSON(200, `{"token_endpoint":"`+self+`/user/oauth20/token"}`),
		"POST /user/oauth20/token":                   hostile.JSON(200, `{"access_token":"`+hsAccess+`","token_type":"Bearer","expires_in":60}`),
		"PUT /api/idp/v1/client-group-invitations/accept": hostile.JSON(200,
			`{"id":"dev-hostile-1","clientId":`+jsonString(hsClientID)+`,"clientSecret":`+jsonString(hsIssued)+`,"name":"lab"}`),
		"PUT /api/idp/v1/client-group-invitations/decline": hostile.Respond(204, nil, ""),
	}
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

// writeEnrolled makes the device a client of server, as an earlier
// enrollment would have, and returns the file's bytes.
func writeEnrolled(path, server, name string) ([]byte, error) {
	if name == "" {
		name = "lab"
	}
	b, err := json.MarshalIndent(map[string]any{
		"version": 1, "server": server, "id": "dev-hostile-0", "clientId": hsClientID,
		"clientSecret": hsSecret, "name": name, "enrolledAt": "2026-01-02T03:04:05Z",
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return b, os.WriteFile(path, b, 0o600)
}

// The routes of the four endpoints, as the scenarios name them.
const (
	routeDiscovery = "GET /user/.well-known/openid-configuration"
	routeToken     = "POST /user/oauth20/token"
	routeAccept    = "PUT /api/idp/v1/client-group-invitations/accept"
	routeDecline   = "PUT /api/idp/v1/client-group-invitations/decline"
)

// one is the routes of a scenario in which a single endpoint misbehaves.
func one(route string, h hostile.Handler) func(self, other string) hostile.Routes {
	return func(string, string) hostile.Routes { return hostile.Routes{route: h} }
}

// hostileLine is how SECURITY.md lists a class of scenarios.
func hostileLine(class string) string { return "- " + class }

// TestSecurityListsTheHostileService fails when a class of scenarios is
// added, renamed or dropped without SECURITY.md following.
func TestSecurityListsTheHostileService(t *testing.T) {
	doc, err := os.ReadFile("SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "## The hostile service")
	listed := map[string]bool{}
	for _, l := range strings.Split(section, "\n") {
		if strings.HasPrefix(l, "- ") {
			listed[l] = true
		}
	}
	classes := map[string]bool{}
	for _, hc := range hostileCases() {
		classes[hostileLine(hc.class)] = true
		if !listed[hostileLine(hc.class)] {
			t.Errorf("SECURITY.md's hostile-service section lacks the line\n%s", hostileLine(hc.class))
		}
	}
	for l := range listed {
		if !classes[l] {
			t.Errorf("SECURITY.md lists a class no scenario has:\n%s", l)
		}
	}
}
