package invite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"enroll/api"
	"enroll/flow"
)

// errAdminRefused is the administrator's credentials refused: by the token
// endpoint, or by the send call (401/403). Exit 4, the code of a device
// whose stored credentials are refused; no further row is tried.
var errAdminRefused = &flow.Kind{Name: "administrator credentials refused", Code: flow.ExitDevice,
	Summary: "The service refused the administrator's credentials.",
	Hint:    "Check the administrator's token or integration client, and that it may send invitations for this organization."}

// adminAuth supplies the administrator's bearer token: a fixed one (from a
// file or ENROLL_ADMIN_TOKEN), or one from the client credentials grant of
// an integration client, fetched when first needed and fetched again once
// if the service says it expired during a long bulk run.
type adminAuth struct {
	svc    *api.Client
	server string
	creds  *flow.Credentials // nil for a fixed token

	mu  sync.Mutex
	tok string
	gen int // counts fetches, so that concurrent renewals fetch once
}

// AdminSource are the ways the flags and environment can name the
// administrator's credentials: a token file (- for stdin), a token in the
// environment, or an integration client's id and secret file.
type AdminSource struct {
	TokenFile, EnvToken, ClientID, SecretFile string
}

// newAdminAuth reads the credentials (no network yet). Secrets never come
// from argv, where every user of the machine can read them: a file, stdin,
// or the environment.
func newAdminAuth(o Options, svc *api.Client) (*adminAuth, error) {
	src, server := o.Admin, o.Server
	given := 0
	for _, set := range []bool{src.TokenFile != "", src.EnvToken != "", src.ClientID != "" || src.SecretFile != ""} {
		if set {
			given++
		}
	}
	switch {
	case given == 0:
		return nil, fmt.Errorf("%w: the administrator's credentials are needed: --admin-token-file FILE, ENROLL_ADMIN_TOKEN, or --admin-client-id with --admin-client-secret-file", flow.ErrUsage)
	case given > 1:
		return nil, fmt.Errorf("%w: give the administrator's credentials one way only: --admin-token-file, ENROLL_ADMIN_TOKEN, or --admin-client-id with --admin-client-secret-file", flow.ErrUsage)
	}
	a := &adminAuth{svc: svc, server: server}
	switch {
	case src.EnvToken != "":
		a.tok = strings.TrimSpace(src.EnvToken)
		return a, checkSecret(a.tok, "ENROLL_ADMIN_TOKEN")
	case src.TokenFile != "":
		tok, err := readSecret(o, src.TokenFile, "administrator token")
		a.tok = tok
		return a, err
	case src.ClientID == "" || src.SecretFile == "":
		return nil, fmt.Errorf("%w: --admin-client-id and --admin-client-secret-file go together", flow.ErrUsage)
	}
	if err := checkSecret(src.ClientID, "--admin-client-id"); err != nil {
		return nil, err
	}
	secret, err := readSecret(o, src.SecretFile, "client secret")
	if err != nil {
		return nil, err
	}
	a.creds = &flow.Credentials{Server: server, ClientID: src.ClientID, ClientSecret: secret}
	return a, nil
}

// readSecret reads one token-like word from a file or stdin (-), warning
// when the file is readable by other users.
func readSecret(o Options, path, what string) (string, error) {
	var r io.Reader = o.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("%w: cannot read the %s: %w", flow.ErrUsage, what, err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(o.Stderr, "enroll: warning: %s holds a secret but other users can read it (chmod 600)\n", flow.Sanitize(path))
		}
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, 16<<10+1))
	if err != nil {
		return "", fmt.Errorf("%w: cannot read the %s: %w", flow.ErrUsage, what, err)
	}
	if len(b) > 16<<10 {
		return "", fmt.Errorf("%w: the %s file is larger than 16 KiB; is it the right file?", flow.ErrUsage, what)
	}
	s := strings.TrimSpace(string(b))
	return s, checkSecret(s, "the "+what)
}

// checkSecret refuses what cannot be one credential: it would otherwise be
// sent in a header or a form, and a file holding several lines is more
// likely the wrong file. The value itself is never quoted.
func checkSecret(s, what string) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: %s is empty", flow.ErrUsage, what)
	case strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || r > '~' }):
		return fmt.Errorf("%w: %s holds spaces, line breaks or non-ASCII characters; it should be one token", flow.ErrUsage, what)
	}
	return nil
}

// token returns the current bearer token and its generation.
func (a *adminAuth) token(ctx context.Context) (string, int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok == "" && a.creds != nil {
		if err := a.fetchLocked(ctx); err != nil {
			return "", a.gen, err
		}
	}
	return a.tok, a.gen, nil
}

// renew fetches a new token after the service refused generation gen; it
// reports false when there is nothing to renew (a fixed token).
func (a *adminAuth) renew(ctx context.Context, gen int) (bool, error) {
	if a.creds == nil {
		return false, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gen != gen { // another worker renewed it already
		return true, nil
	}
	return true, a.fetchLocked(ctx)
}

func (a *adminAuth) fetchLocked(ctx context.Context) error {
	tok, err := a.svc.Authenticate(ctx, a.server, *a.creds)
	if errors.Is(err, flow.ErrUnauthorized) {
		var se *api.StatusError
		if errors.As(err, &se) {
			return fmt.Errorf("%w: the service refused the integration client's credentials: %w", errAdminRefused, se)
		}
		return fmt.Errorf("%w: the service refused the integration client's credentials", errAdminRefused)
	}
	if err != nil {
		return err
	}
	a.tok = tok
	a.gen++
	return nil
}
