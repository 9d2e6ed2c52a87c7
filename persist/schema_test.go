package persist

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"enroll/flow"
	"enroll/persist/schematest"
)

// The credentials file is a contract with the licensed application: its
// JSON Schema (credentials.schema.json) says what a reader may rely on.
// Every file enroll writes validates against it, and files that break the
// contract do not: the schema is checked to refuse, not only to accept.

// credentialsSchema and validate are schematest's, under the names this
// package's tests use.
func credentialsSchema(t *testing.T) *jsonschema.Schema { return schematest.Compile(t) }

func validate(s *jsonschema.Schema, data []byte) error { return schematest.Validate(s, data) }

func TestEveryWrittenFileMatchesTheSchema(t *testing.T) {
	schema := credentialsSchema(t)
	for _, c := range []flow.Credentials{
		testCreds(),
		{Server: "https://idp.example.com:8443/tenant", ID: "6607a545-3e0c-462c-91aa-9d063f5d056a", ClientID: "4ed1b9f8", ClientSecret: `a !"#$%&'()*+,-./09:;<=>?@AZ[\]^_` + "`az{|}~z", Name: "Prüfstand 4 \u202e", EnrolledAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))},
		{Server: "http://127.0.0.1:8080", ID: strings.Repeat("i", 256), ClientID: strings.Repeat("c", 256), ClientSecret: strings.Repeat("s", 4096), Name: strings.Repeat("n", 1024)},
		// Plain http to this machine in each form enroll accepts and the
		// readers of examples/readers take for loopback.
		{Server: "http://[::1]:8080", ID: "d", ClientID: "c", ClientSecret: "s"},
		{Server: "http://[::1]/tenant", ID: "d", ClientID: "c", ClientSecret: "s"},
		{Server: "http://localhost:8080", ID: "d", ClientID: "c", ClientSecret: "s"},
		{Server: "http://127.255.255.254", ID: "d", ClientID: "c", ClientSecret: "s"},
	} {
		// Each in clear (version 1) and sealed (version 2).
		for _, s := range []*Store{newStore(t, nil), sealedStore(t, "", &fakeSealer{device: 1}, SealTPM)} {
			mustPrepare(t, s)
			if err := s.Save(c); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(s.Path())
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(schema, data); err != nil {
				t.Errorf("a file enroll wrote does not match the schema: %v\n%s", err, data)
			}
		}
	}
}

func TestTheSchemaRefusesWhatBreaksTheContract(t *testing.T) {
	schema := credentialsSchema(t)
	good := map[string]any{"version": 1, "server": "https://idp.example.com", "id": "d", "clientId": "c", "clientSecret": "s", "name": "", "enrolledAt": "2026-01-02T03:04:05Z", "laterField": true}
	b, _ := json.Marshal(good)
	if err := validate(schema, b); err != nil {
		t.Fatalf("a good file, with a field a later writer added: %v", err)
	}
	for name, edit := range map[string]func(m map[string]any){
		"version 2 without protection": func(m map[string]any) { m["version"] = 2 },
		"version 3":                    func(m map[string]any) { m["version"] = 3 },
		"version 1 without a secret but protected": func(m map[string]any) {
			delete(m, "clientSecret")
			m["protection"] = map[string]any{"kind": "tpm2", "public": "AA==", "private": "AA==", "nonce": "AAAAAAAAAAAAAAAA", "ciphertext": "AA=="}
		},
		"no secret":       func(m map[string]any) { delete(m, "clientSecret") },
		"empty client id": func(m map[string]any) { m["clientId"] = "" },
		"no server":       func(m map[string]any) { delete(m, "server") },
		"insecure server": func(m map[string]any) { m["server"] = "http://idp.example.com" },
		// Plain http that only looks like loopback: each is another host.
		"http to a user name's host":     func(m map[string]any) { m["server"] = "http://127.0.0.1@idp.example.com/" },
		"http to a name under 127":       func(m map[string]any) { m["server"] = "http://127.0.0.1.nip.io" },
		"http to five numbers":           func(m map[string]any) { m["server"] = "http://127.0.0.1.5" },
		"http to an octet over 255":      func(m map[string]any) { m["server"] = "http://127.0.0.256" },
		"http to a name under localhost": func(m map[string]any) { m["server"] = "http://localhost.example.com" },
		"http to an IPv6 host":           func(m map[string]any) { m["server"] = "http://[2001:db8::1]:8080" },
		"https with a user name":         func(m map[string]any) { m["server"] = "https://user@idp.example.com" },
		"a control in the secret":        func(m map[string]any) { m["clientSecret"] = "s\x1b" },
		"a secret too long":              func(m map[string]any) { m["clientSecret"] = strings.Repeat("s", 4097) },
		"a local time":                   func(m map[string]any) { m["enrolledAt"] = "2026-01-02T04:04:05+01:00" },
		"version 2 with the secret in clear too": func(m map[string]any) {
			m["version"] = 2
			m["protection"] = map[string]any{"kind": "tpm2", "public": "AA==", "private": "AA==", "nonce": "AAAAAAAAAAAAAAAA", "ciphertext": "AA=="}
		},
		"version 2 of another kind": func(m map[string]any) {
			m["version"] = 2
			delete(m, "clientSecret")
			m["protection"] = map[string]any{"kind": "keyring", "public": "AA==", "private": "AA==", "nonce": "AAAAAAAAAAAAAAAA", "ciphertext": "AA=="}
		},
	} {
		m := map[string]any{}
		for k, v := range good {
			m[k] = v
		}
		edit(m)
		b, _ := json.Marshal(m)
		if validate(schema, b) == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}
