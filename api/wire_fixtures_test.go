package api

import (
	"os"
	"path/filepath"
	"testing"
)

// The client reads the same bytes the emulator is checked against
// (testdata/wire), so the assumed contract is tested from both ends.

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "wire", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFixtureAcceptResponses(t *testing.T) {
	const id, clientID, secret = "6607a545-3e0c-462c-91aa-9d063f5d056a", "4ed1b9f8-b5ce-4b65-be00-9b3b3bae4a36", "ciOujmBNzJPjdelvO7lfNhdwAsonITB7EGMV4pDj-UE"
	for _, tt := range []struct {
		file   string
		secret string
	}{
		{"accept-response-new.json", secret},
		{"accept-response-snake-case.json", secret},
		{"accept-response-existing.json", ""},
	} {
		t.Run(tt.file, func(t *testing.T) {
			c, err := New(Options{}).DecodeAccept(fixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if c.ID != id || c.ClientID != clientID || c.ClientSecret != tt.secret || c.Name != "Lobby kiosk 12" {
				t.Errorf("decoded %+v", c)
			}
		})
	}
}

func TestFixtureErrorBodies(t *testing.T) {
	for _, tt := range []struct {
		file, code, message string
	}{
		{"error-rfc6749.json", "invalid_client", "Client authentication failed."},
		{"error-code-message.json", "invitation_used", "The invitation has already been accepted."},
		{"error-errorDescription.json", "invitation_not_found", "No invitation has this token."},
		{"error-code-description.json", "unknown_group", "A group in groupIds does not exist in this organization."},
		{"error-server.json", "server_error", ""},
	} {
		t.Run(tt.file, func(t *testing.T) {
			code, msg := readErrorBody(fixture(t, tt.file))
			if code != tt.code || msg != tt.message {
				t.Errorf("readErrorBody = %q, %q; want %q, %q", code, msg, tt.code, tt.message)
			}
		})
	}
}
