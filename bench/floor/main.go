// Command floor is the physical floor of `enroll accept`: a Go binary that
// does only the HTTP calls enroll makes against the service and one fsync
// of the credentials it receives, and nothing else — no flag parsing, no
// store lock, no journal, no system certificate pool, no validation.
// bench/run times it next to `enroll accept` against the same emulator; the
// ratio says what enroll's own care costs on top of the unavoidable work.
//
// It reads the invitation link from ENROLL_TOKEN and writes to
// ENROLL_CREDENTIALS, like enroll. A new device makes one call (PUT accept);
// with -existing (a device that holds credentials already) it makes the
// calls enroll makes for that case: discovery, the client-credentials grant
// and the accept with the access token.
//
// It only ever talks to the address in the link; bench/run gives it the
// loopback emulator's.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run() error {
	existing := len(os.Args) > 1 && os.Args[1] == "-existing"
	link, err := url.Parse(os.Getenv("ENROLL_TOKEN"))
	if err != nil {
		return err
	}
	base := link.Scheme + "://" + link.Host
	path := os.Getenv("ENROLL_CREDENTIALS")
	body, _ := json.Marshal(map[string]string{"token": link.Query().Get("token"), "name": "bench"})

	var stored struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
	}
	bearer := ""
	if existing {
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &stored); err != nil {
			return err
		}
		var disc struct {
			TokenEndpoint string `json:"token_endpoint"`
		}
		if err := call("GET", base+"/user/.well-known/openid-configuration", nil, nil, &disc); err != nil {
			return err
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		form := url.Values{"grant_type": {"client_credentials"}}.Encode()
		if err := call("POST", disc.TokenEndpoint, []byte(form), func(r *http.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.SetBasicAuth(url.QueryEscape(stored.ClientID), url.QueryEscape(stored.ClientSecret))
		}, &tok); err != nil {
			return err
		}
		bearer = tok.AccessToken
	}

	var client map[string]any
	if err := call("PUT", base+"/api/idp/v1/client-group-invitations/accept", body, func(r *http.Request) {
		r.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			r.Header.Set("Authorization", "Bearer "+bearer)
		}
	}, &client); err != nil {
		return err
	}
	if existing {
		client["clientSecret"] = stored.ClientSecret
	}
	out, _ := json.Marshal(client)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(out); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

func call(method, u string, body []byte, prepare func(*http.Request), into any) error {
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if prepare != nil {
		prepare(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, strings.TrimSpace(string(raw)))
	}
	return json.Unmarshal(raw, into)
}
