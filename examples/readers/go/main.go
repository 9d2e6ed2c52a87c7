// Command token is the licensed application's side, in Go: read enroll's
// credentials file and get an access token with the OAuth 2.0 client
// credentials grant (golang.org/x/oauth2). It prints the access token.
//
//	go run ./examples/readers/go [CREDENTIALS_FILE]
//
// The file: the argument, else $ENROLL_CREDENTIALS, else the one systemd's
// LoadCredential=enroll:/var/lib/enroll/credentials.json hands the service
// ($CREDENTIALS_DIRECTORY/enroll), else /var/lib/enroll/credentials.json.
// $ENROLL_CA_FILE, as enroll's --ca-file, names PEM CA certificates to
// trust besides the system's.
//
// The client secret goes to the enrolled origin only: a token endpoint
// that discovery names on another origin is refused, and no redirect is
// followed (one could carry the secret elsewhere).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
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
	switch c.Version {
	case 1:
	case 2:
		// No clientSecret: it is sealed to the device's TPM (enroll accept
		// --seal tpm), and only enroll unseals it.
		return errors.New("the credentials file is version 2: its client secret is sealed to this device's TPM, and only enroll can unseal it; get access tokens with `enroll token` (or `enroll token --json`)")
	default:
		return fmt.Errorf("the credentials file is version %d, not 1", c.Version)
	}
	server, err := url.Parse(c.Server)
	if err != nil || server.User != nil || server.Host == "" ||
		server.Scheme != "https" && !(server.Scheme == "http" && loopback(server.Hostname())) {
		return fmt.Errorf("refusing the server %q: https only", c.Server)
	}
	client, err := httpClient()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	endpoint, err := tokenEndpoint(ctx, client, server)
	if err != nil {
		return err
	}
	// x/oauth2 takes its HTTP client from the context: without it, it
	// would use http.DefaultClient, which follows redirects and re-sends
	// the body, secret included, wherever a 307 or 308 points.
	ctx = context.WithValue(ctx, oauth2.HTTPClient, client)
	cfg := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: endpoint, AuthStyle: oauth2.AuthStyleInParams}
	tok, err := cfg.Token(ctx)
	if err != nil {
		return err
	}
	// Printed to a terminal, perhaps: printable ASCII only, one line.
	for _, r := range tok.AccessToken {
		if r < 0x20 || r > 0x7e {
			return errors.New("the token endpoint's answer holds no access_token (printable ASCII)")
		}
	}
	fmt.Println(tok.AccessToken)
	return nil
}

// errRedirect stops every redirect before it is followed.
var errRedirect = errors.New("the service answered with a redirect; not followed: the secret goes to the enrolled origin only")

// httpClient follows no redirect and trusts the system's CAs and those of
// $ENROLL_CA_FILE, as enroll's --ca-file does.
func httpClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if f := os.Getenv("ENROLL_CA_FILE"); f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("ENROLL_CA_FILE: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ENROLL_CA_FILE %q holds no PEM certificate", f)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return errRedirect },
	}, nil
}

// tokenEndpoint is what discovery names on the server's origin, else the
// service's default path: the secret goes to the enrolled origin only.
func tokenEndpoint(ctx context.Context, client *http.Client, server *url.URL) (string, error) {
	base := strings.TrimRight(server.String(), "/")
	fallback := base + "/user/oauth20/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/user/.well-known/openid-configuration", nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
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
	if err != nil || u.User != nil || origin(u) != origin(server) {
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
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// loopback is enroll's own test: the name localhost or a loopback address,
// where plain http crosses no network.
func loopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
