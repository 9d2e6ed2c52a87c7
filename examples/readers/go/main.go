// Command token is the licensed application's side, in Go: read enroll's
// credentials file and get an access token with the OAuth 2.0 client
// credentials grant (golang.org/x/oauth2). It prints the access token.
//
//	go run ./examples/readers/go [CREDENTIALS_FILE]
//
// The file: the argument, else $ENROLL_CREDENTIALS, else the one systemd's
// LoadCredential=enroll:/var/lib/enroll/credentials.json hands the service
// ($CREDENTIALS_DIRECTORY/enroll), else /var/lib/enroll/credentials.json.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// credentials are the fields of version 1 this reader relies on; others
// are ignored, as the format's rules say.
type credentials struct {
	Version      int    `json:"version"`
	Server       string `json:"server"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

func path() string {
	switch {
	case len(os.Args) > 1:
		return os.Args[1]
	case os.Getenv("ENROLL_CREDENTIALS") != "":
		return os.Getenv("ENROLL_CREDENTIALS")
	case os.Getenv("CREDENTIALS_DIRECTORY") != "":
		return filepath.Join(os.Getenv("CREDENTIALS_DIRECTORY"), "enroll")
	}
	return "/var/lib/enroll/credentials.json"
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "token:", err)
		os.Exit(1)
	}
}

func run() error {
	b, err := os.ReadFile(path())
	if err != nil {
		return err
	}
	var c credentials
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	if c.Version != 1 {
		return fmt.Errorf("the credentials file is version %d, not 1", c.Version)
	}
	server, err := url.Parse(c.Server)
	if err != nil || server.Scheme != "https" && !(server.Scheme == "http" && loopback(server.Hostname())) {
		return fmt.Errorf("refusing the server %q: https only", c.Server)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	endpoint, err := tokenEndpoint(ctx, server)
	if err != nil {
		return err
	}
	cfg := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: endpoint, AuthStyle: oauth2.AuthStyleInParams}
	tok, err := cfg.Token(ctx)
	if err != nil {
		return err
	}
	fmt.Println(tok.AccessToken)
	return nil
}

// tokenEndpoint is what discovery names on the server's origin, else the
// service's default path: the secret goes to the enrolled origin only.
func tokenEndpoint(ctx context.Context, server *url.URL) (string, error) {
	fallback := strings.TrimRight(server.String(), "/") + "/user/oauth20/token"
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(server.String(), "/")+"/user/.well-known/openid-configuration", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fallback, nil
	}
	defer resp.Body.Close()
	var d struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&d) != nil || d.TokenEndpoint == "" {
		return fallback, nil
	}
	u, err := url.Parse(d.TokenEndpoint)
	if err != nil || origin(u) != origin(server) {
		return "", fmt.Errorf("discovery names a token endpoint on another origin; refusing")
	}
	return d.TokenEndpoint, nil
}

// origin is scheme://host:port, the port written out.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	return u.Scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

func loopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}
