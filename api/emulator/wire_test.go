package emulator

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"enroll/api"
)

// The wire fixtures in testdata/wire are the readable form of the assumed
// contract. This test holds the emulator to them: every emulator answer
// decodes with the fixture's Go type and has exactly the fixture's JSON
// keys, deterministic answers (errors, discovery, the existing-device
// accept) are equal to the fixture, and every request fixture is accepted.

const wireDir = "../../testdata/wire"

type wireTest struct {
	t    *testing.T
	e    *Emulator
	used map[string]bool
}

func (w *wireTest) file(name string) []byte {
	w.t.Helper()
	b, err := os.ReadFile(filepath.Join(wireDir, name))
	if err != nil {
		w.t.Fatal(err)
	}
	w.used[name] = true
	return b
}

// answer sends q and checks its status.
func (w *wireTest) answer(q rq, status int) []byte {
	w.t.Helper()
	rec := do(w.t, w.e, q)
	if rec.Code != status {
		w.t.Fatalf("%s %s: %d, want %d: %s", q.method, q.path, rec.Code, status, rec.Body)
	}
	return rec.Body.Bytes()
}

// like checks that got has the keys of fixture name and decodes with the
// same type T; it returns both decoded values.
func like[T any](w *wireTest, name string, got []byte) (fix, emu T) {
	w.t.Helper()
	want := w.file(name)
	if k1, k2 := keys(w.t, want), keys(w.t, got); !slices.Equal(k1, k2) {
		w.t.Errorf("%s: keys %v, emulator answers %v (%s)", name, k1, k2, got)
	}
	if err := json.Unmarshal(want, &fix); err != nil {
		w.t.Errorf("%s does not decode as %T: %v", name, fix, err)
	}
	if err := json.Unmarshal(got, &emu); err != nil {
		w.t.Errorf("emulator answer for %s does not decode as %T: %v", name, emu, err)
	}
	return fix, emu
}

// same is like plus equality, for answers with nothing random in them.
func same[T any](w *wireTest, name string, got []byte) {
	w.t.Helper()
	if fix, emu := like[T](w, name, got); !reflect.DeepEqual(fix, emu) {
		w.t.Errorf("%s: fixture %+v, emulator %+v", name, fix, emu)
	}
}

func keys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	mustJSON(t, b, &m)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// tokenResponse is the token endpoint's answer; package api reads it
// through golang.org/x/oauth2, which has no exported type for it.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

// errorFields is how error fixtures are decoded: every error shape is a
// flat object of strings (api's own reader is unexported).
type errorFields map[string]string

func TestWireFixtures(t *testing.T) {
	e, _ := newEmu(t) // its base URL is the fixtures' https://idp.example.com
	w := &wireTest{t: t, e: e, used: map[string]bool{}}
	admin := "Bearer " + testAdmin
	req := func(name string) api.AcceptBody {
		var b api.AcceptBody
		mustJSON(t, w.file(name), &b)
		return b
	}
	for name, group := range map[string]string{
		"accept-request.json": GroupLab, "accept-request-named.json": GroupKiosks, "decline-request.json": GroupLab,
	} {
		mustCreate(t, e, InvitationSpec{Groups: []string{group}, Token: req(name).Token})
	}

	// Discovery names the token endpoint on the origin it was asked at.
	same[api.Discovery](w, "discovery.json", w.answer(rq{method: "GET", path: "https://idp.example.com" + api.PathDiscovery}, 200))

	// A new device, named.
	got := w.answer(rq{method: "PUT", path: api.PathAccept, body: string(w.file("accept-request-named.json"))}, 200)
	fix, emu := like[api.ClientBody](w, "accept-response-new.json", got)
	if emu.ClientSecret == "" || emu.Name != req("accept-request-named.json").Name || fix.ClientSecret == "" {
		t.Errorf("new device: fixture %+v, emulator %+v", fix, emu)
	}

	// The fixture's device, registered earlier, gets a token both ways and
	// accepts accept-request.json as an existing device.
	addFixedClient(e, Client{ID: fix.ID, ClientID: fix.ClientID, ClientSecret: fix.ClientSecret, Name: fix.Name, Groups: fix.Groups})
	form := strings.TrimSpace(string(w.file("token-request-form.txt")))
	got = w.answer(rq{method: "POST", path: api.PathToken, body: form, ctype: api.ContentTypeForm}, 200)
	like[tokenResponse](w, "token-response.json", got)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(fix.ClientID+":"+fix.ClientSecret))
	body := strings.TrimSpace(string(w.file("token-request-basic.txt")))
	got = w.answer(rq{method: "POST", path: api.PathToken, body: body, ctype: api.ContentTypeForm, auth: basic}, 200)
	_, tok := like[tokenResponse](w, "token-response.json", got)
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 {
		t.Errorf("token answer %+v", tok)
	}
	accept := rq{method: "PUT", path: api.PathAccept, body: string(w.file("accept-request.json"))}
	accept.auth = "Bearer " + tok.AccessToken
	same[api.ClientBody](w, "accept-response-existing.json", w.answer(accept, 200))

	// The snake_case aliases are for the client only; they must decode to
	// the same device as the camelCase answer.
	var snake api.ClientBody
	mustJSON(t, w.file("accept-response-snake-case.json"), &snake)
	if snake.ID != fix.ID || snake.ClientID != fix.ClientID || snake.ClientSecret != fix.ClientSecret || snake.Name != fix.Name {
		t.Errorf("snake_case fixture decodes to %+v, want %+v", snake, fix)
	}

	w.answer(rq{method: "PUT", path: api.PathDecline, body: string(w.file("decline-request.json"))}, 204)

	send := rq{method: "POST", path: sendPath(DefaultOrg), body: string(w.file("send-request.json")), auth: admin}
	sf, se := like[api.InvitationBody](w, "send-response.json", w.answer(send, 201))
	sf.ID, sf.Token, sf.Link = se.ID, se.Token, testBase+"/invitation?token="+se.Token // random parts
	if !reflect.DeepEqual(sf, se) {
		t.Errorf("send: fixture %+v, emulator %+v", sf, se)
	}
	send.body = string(w.file("send-request-restricted.json"))
	var restricted api.InvitationBody
	mustJSON(t, w.answer(send, 201), &restricted)
	if !restricted.ExistingClientsOnly || restricted.ClientID != fix.ClientID {
		t.Errorf("restricted send answered %+v", restricted)
	}

	// Errors, one shape per operation.
	bad := strings.Replace(form, fix.ClientSecret, "wrong", 1)
	same[errorFields](w, "error-rfc6749.json", w.answer(rq{method: "POST", path: api.PathToken, body: bad, ctype: api.ContentTypeForm}, 401))
	accept.auth = ""
	same[errorFields](w, "error-code-message.json", w.answer(accept, 409))
	same[errorFields](w, "error-errorDescription.json", w.answer(declineRq("no-such-token"), 404))
	same[errorFields](w, "error-code-description.json",
		w.answer(sendRq(DefaultOrg, api.SendBody{GroupIDs: []string{"grp-nope"}}, admin), 400))
	e.SetDown(true)
	same[errorFields](w, "error-server.json", w.answer(accept, 503))

	checkFixtureList(t, w.used)
}

// checkFixtureList fails when a fixture is not exercised above or not
// listed in the folder's README, so neither can fall behind the files.
func checkFixtureList(t *testing.T, used map[string]bool) {
	entries, err := os.ReadDir(wireDir)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(wireDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)`").FindAllStringSubmatch(string(readme), -1) {
		listed[m[1]] = true
	}
	for _, de := range entries {
		name := de.Name()
		if name == "README.md" {
			continue
		}
		if !used[name] {
			t.Errorf("%s is not checked by TestWireFixtures", name)
		}
		if !listed[name] {
			t.Errorf("%s is not listed in testdata/wire/README.md", name)
		}
		delete(listed, name)
	}
	for name := range listed {
		t.Errorf("README.md lists %s, which does not exist", name)
	}
}

// addFixedClient registers a client with the fixture's credentials; the
// public AddClient always makes random ones.
func addFixedClient(e *Emulator, c Client) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clients = append(e.clients, &c)
	e.byClientID[c.ClientID] = &c
}
