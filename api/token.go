package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"enroll/flow"
)

// maxBackoff caps one exponential backoff wait.
const maxBackoff = 8 * time.Second

// Authenticate gets an access token for a registered device with the OAuth
// 2.0 client credentials grant. Tokens live in memory only; a fresh one is
// fetched on every call, as a run needs at most one or two.
//
// With AuthStyleAutoDetect, x/oauth2 tries HTTP Basic first and, on any
// failure, the form parameters; the style that worked is remembered per
// token endpoint and client for later calls of this Client. Until then one
// attempt may send two requests.
func (c *Client) Authenticate(ctx context.Context, server string, cr flow.Credentials) (_ string, err error) {
	ctx, done := c.call(ctx, &err, cr.Secrets()...)
	defer done()
	if cr.ClientID == "" || cr.ClientSecret == "" {
		return "", kindErr(flow.ErrNotEnrolled, nil, "token: no client id or client secret given")
	}
	tokenURL, err := c.DiscoverTokenURL(ctx, server)
	if err != nil {
		return "", err
	}
	cfg := c.config(tokenURL, cr)
	octx := context.WithValue(ctx, oauth2.HTTPClient, c.hc)
	var access string
	err = c.withRetry(ctx, "token", func() attempt {
		tok, err := cfg.Token(octx)
		if err != nil {
			return c.tokenError(ctx, err, cr.Secrets())
		}
		if !usableAccessToken(tok.AccessToken) {
			// Never shown: it is a credential, or it is hostile text.
			return attempt{err: kindErr(flow.ErrServer, nil, "token: the service returned an unusable access token")}
		}
		access = tok.AccessToken
		return attempt{}
	})
	return access, err
}

// maxAccessToken bounds an access token; real ones are a few hundred bytes
// to a few KiB (a JWT with many claims).
const maxAccessToken = 4096

// usableAccessToken reports whether tok has RFC 6750 b64token syntax,
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=", and a
// sane length. Anything else would be sent back in an Authorization
// header or printed by `enroll token`, so a server could smuggle header
// lines or terminal escapes through it.
func usableAccessToken(tok string) bool {
	if tok == "" || len(tok) > maxAccessToken {
		return false
	}
	body := strings.TrimRight(tok, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

func (c *Client) config(tokenURL string, cr flow.Credentials) *clientcredentials.Config {
	key := [2]string{tokenURL, cr.ClientID}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cfg, ok := c.configs[key]; ok && cfg.ClientSecret == cr.ClientSecret {
		return cfg
	}
	cfg := &clientcredentials.Config{
		ClientID: cr.ClientID, ClientSecret: cr.ClientSecret, TokenURL: tokenURL,
		AuthStyle: oauth2.AuthStyleAutoDetect,
	}
	c.configs[key] = cfg
	return cfg
}

// tokenError maps what x/oauth2 returned. Only network trouble, 429 and
// 5xx are worth another attempt.
func (c *Client) tokenError(ctx context.Context, err error, secrets []string) attempt {
	var re *oauth2.RetrieveError
	var ke *kindError
	var ue *url.Error
	switch {
	case errors.As(err, &re):
		return c.retrieveError(re, secrets)
	case errors.As(err, &ke), errors.As(err, &ue):
		return retryableTransport(ctx, "token", err)
	default:
		// x/oauth2's own text may quote the answer; it is not shown.
		return attempt{err: kindErr(flow.ErrServer, nil, "token: the token endpoint's answer holds no usable access token")}
	}
}

// oauthRefused are the RFC 6749 codes that mean this client's credentials
// (or its right to the grant) were refused.
var oauthRefused = map[string]bool{"invalid_client": true, "unauthorized_client": true, "invalid_grant": true}

func (c *Client) retrieveError(re *oauth2.RetrieveError, secrets []string) attempt {
	status, h := 0, http.Header{}
	if re.Response != nil {
		status, h = re.Response.StatusCode, re.Response.Header
	}
	se := newStatusError("token", token, status, h, requestURL(re.Response), re.Body, time.Now(), secrets...)
	if re.ErrorCode != "" { // x/oauth2 also reads form-encoded answers
		se.Code = clean(re.ErrorCode, maxCode, secrets...)
		if re.ErrorDescription != "" {
			se.Message = clean(re.ErrorDescription, maxText, secrets...)
		}
	}
	if oauthRefused[se.Code] {
		se.Kind = flow.ErrUnauthorized
		se.RetryAfter = 0 // a refusal: waiting does not help
	}
	if se.Kind == flow.ErrUnauthorized {
		return attempt{err: kindErr(flow.ErrUnauthorized, se, "the service refused the client's credentials: %v", se)}
	}
	if status == http.StatusTooManyRequests || status >= 500 {
		return attempt{err: se, retry: true, after: se.RetryAfter}
	}
	return attempt{err: se}
}

// DiscoverTokenURL reads the token endpoint from the server's OpenID
// discovery document, once per server for the Client's life. A missing or
// unusable document means the documented default path; a document that
// names an insecure endpoint is refused, not ignored, since it would have
// the device send its secret in the clear.
func (c *Client) DiscoverTokenURL(ctx context.Context, server string) (_ string, err error) {
	ctx, done := c.call(ctx, &err)
	defer done()
	base, err := NormalizeServer(server)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	u, ok := c.tokenURLs[base]
	c.mu.Unlock()
	if ok {
		return u, nil
	}
	err = c.withRetry(ctx, "discovery", func() attempt {
		var a attempt
		u, a = c.discover(ctx, base)
		return a
	})
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.tokenURLs[base] = u
	c.mu.Unlock()
	return u, nil
}

func (c *Client) discover(ctx context.Context, base string) (string, attempt) {
	fallback := base + PathToken
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+PathDiscovery, nil)
	if err != nil {
		return "", attempt{err: kindErr(flow.ErrUsage, err, "discovery: %v", err)}
	}
	req.Header.Set("Accept", ContentTypeJSON)
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", retryableTransport(ctx, "discovery", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		se := c.statusError(resp, "discovery", token)
		return "", attempt{err: se, retry: true, after: se.RetryAfter}
	case resp.StatusCode != http.StatusOK:
		c.log(ctx, "discovery: status %d; using the default token endpoint", resp.StatusCode)
		return fallback, attempt{}
	}
	body, err := io.ReadAll(resp.Body)
	var d Discovery
	if err != nil || json.Unmarshal(body, &d) != nil || strings.TrimSpace(d.TokenEndpoint) == "" {
		c.log(ctx, "discovery: document unusable; using the default token endpoint")
		return fallback, attempt{}
	}
	u, err := checkTokenEndpoint(base, d.TokenEndpoint)
	if err != nil {
		return "", attempt{err: err}
	}
	if u == "" {
		c.log(ctx, "discovery: token_endpoint is not an absolute URL; using the default")
		return fallback, attempt{}
	}
	return u, attempt{}
}

// checkTokenEndpoint decides whether the device may send its secret to the
// endpoint a discovery document names: only on the origin (scheme, host,
// port) of the server the device is enrolled with, where the real service
// serves it (<server>/user/oauth20/token). A document that names another
// origin, plain http where the server is https, or user info is refused,
// not ignored: it would have the device hand its secret to whoever wrote
// the document. It returns "" with no error for a value that is not an
// absolute URL, which the caller treats as no document.
func checkTokenEndpoint(base, ep string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(ep))
	if err != nil || !u.IsAbs() || u.Hostname() == "" {
		return "", nil
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", kindErr(flow.ErrUsage, err, "discovery: the server %s is not a URL", serverShown(base))
	}
	shown := flow.SanitizeMax(u.Scheme+"://"+u.Host, maxText)
	switch {
	case u.User != nil:
		return "", kindErr(flow.ErrEndpointRefused, nil, "discovery: the token endpoint holds a user name or password; refusing it")
	case origin(u) != origin(b):
		return "", kindErr(flow.ErrEndpointRefused, nil,
			"discovery: the service names a token endpoint on another origin (%s); enroll sends a client secret only to %s, the server it belongs to",
			shown, flow.SanitizeMax(origin(b), maxText))
	}
	return u.String(), nil
}

// origin is scheme://host:port with the scheme's default port written out
// and the host in lower case, so that equal origins compare equal.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[strings.ToLower(u.Scheme)]
	}
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// attempt is one try of a retried call: the error, whether another try may
// help, and the wait the server asked for.
type attempt struct {
	err   error
	retry bool
	after time.Duration
}

// withRetry runs f up to maxAttempts times with capped, jittered
// exponential backoff, or the server's Retry-After. It never starts a wait
// that would end after ctx's deadline, nor one longer than
// MaxRetryAfterSecs: it gives up at once and says what the server asked.
func (c *Client) withRetry(ctx context.Context, op string, f func() attempt) error {
	for n := 1; ; n++ {
		a := f()
		if a.err == nil {
			return nil
		}
		if !a.retry || n >= c.maxAttempts || ctx.Err() != nil {
			return gaveUp(a.err, n, "")
		}
		wait := c.backoff(n)
		if a.after > 0 {
			wait = a.after
			if limit := MaxRetryAfterSecs * time.Second; wait > limit {
				return gaveUp(a.err, n, "enroll waits at most "+WaitWords(limit))
			}
		}
		if left, ok := timeLeft(ctx); ok && left < wait {
			if a.after > 0 {
				return gaveUp(a.err, n, "the time limit (--timeout) leaves "+WaitWords(max(left, 0)))
			}
			return gaveUp(a.err, n, "")
		}
		c.log(ctx, "%s: attempt %d of %d failed (%s); retrying in %s", op, n, c.maxAttempts, logText(a.err), wait.Round(time.Millisecond))
		if err := c.sleep(ctx, wait); err != nil {
			return fmt.Errorf("%w; stopped waiting to retry: %w", a.err, err)
		}
	}
}

// gaveUp says how many attempts were made and, when a wait the server asked
// for was not started, why.
func gaveUp(err error, n int, why string) error {
	switch {
	case why != "":
		return fmt.Errorf("%w; giving up: %s", err, why)
	case n == 1:
		return err
	}
	return fmt.Errorf("%w; gave up after %d attempts", err, n)
}

// backoff is "equal jitter": half the exponential step fixed, half random,
// so retries from many devices spread out but never shrink to nothing.
func (c *Client) backoff(n int) time.Duration {
	d := maxBackoff
	if n < 6 {
		d = min(500*time.Millisecond<<(n-1), maxBackoff)
	}
	return d/2 + time.Duration(c.rand()*float64(d/2))
}

// Sleep waits d, or less if ctx ends first (then it returns ctx.Err()).
// The client's retries pause with it; so do callers that pace their own
// calls to the service (enroll invite's rate limit).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
