package handoff

import "testing"

// FuzzOpen feeds arbitrary request bodies to the parser and authenticator
// of a hand-off submission: it must never panic, and without the key no
// body opens.
func FuzzOpen(f *testing.F) {
	for _, seed := range []string{
		`{"v":1,"nonce":"AAAAAAAAAAAAAAAA","ct":"AAAAAAAAAAAAAAAAAAAAAA"}`,
		`{"v":1,"nonce":"","ct":""}`,
		`{"v":2}`, `[]`, `null`, `{"v":1,"nonce":"!!!","ct":"%%%"}`, "\xff\xfe",
	} {
		f.Add([]byte(seed))
	}
	s, err := Start(Options{Listen: "127.0.0.1:0"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	f.Fuzz(func(t *testing.T, body []byte) {
		if text, _, err := s.open(body); err == nil {
			t.Fatalf("a body opened without the key: %q", text)
		}
	})
}
