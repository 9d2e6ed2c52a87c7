package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"enroll/flow"
)

// exchange sends one non-idempotent request and tells apart the two ways a
// transport failure can happen: before the request was fully written the
// service cannot have acted (ErrNetwork, safe to retry), after it it may
// have (ErrOutcomeUnknown).
func (c *Client) exchange(ctx context.Context, op, method, server, path string, payload []byte, bearer string) (*http.Response, error) {
	base, err := NormalizeServer(server)
	if err != nil {
		return nil, err
	}
	// ctx may stop the request only while nothing can have reached the
	// service: until a connection carries it (name lookup, connect, TLS,
	// a proxy's CONNECT). From then on only ctx's deadline ends the wait:
	// an interruption must not leave unanswered a request the service may
	// have acted on. The answer's body is read under the same rule.
	reqCtx, release := detach(ctx)
	var mu sync.Mutex
	connected, cut := false, false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !connected {
			cut = true
			release()
		}
	})
	defer stop()
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		// A new connection attempt (also after a redirect) starts clean;
		// the transport only re-sends on its own when nothing was written.
		GetConn: func(string) { wrote.Store(false) },
		GotConn: func(httptrace.GotConnInfo) {
			mu.Lock()
			defer mu.Unlock()
			connected = true
		},
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		},
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(reqCtx, trace), method, base+path, bytes.NewReader(payload))
	if err != nil {
		release()
		return nil, kindErr(flow.ErrUsage, err, "%s: %v", op, err)
	}
	req.Header.Set("Content-Type", ContentTypeJSON)
	req.Header.Set("Accept", ContentTypeJSON)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		release()
		mu.Lock()
		interrupted := cut
		mu.Unlock()
		if interrupted && !wrote.Load() {
			return nil, kindErr(flow.ErrInterrupted, err, "%s: interrupted before the request was sent", op)
		}
		return nil, transportError(op, err, wrote.Load())
	}
	resp.Body = releasing{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// detach is ctx without its cancellation but with its deadline, and the
// function that ends it.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(context.WithoutCancel(ctx), dl)
	}
	return context.WithCancel(context.WithoutCancel(ctx))
}

// releasing ends the request's context once its body is closed.
type releasing struct {
	io.ReadCloser
	release context.CancelFunc
}

func (r releasing) Close() error {
	err := r.ReadCloser.Close()
	r.release()
	return err
}

// retryableTransport maps a failed idempotent request (discovery, the
// token grant) as transportError does, nothing having been committed, and
// marks it worth another attempt when the network failed and ctx is live.
func retryableTransport(ctx context.Context, op string, err error) attempt {
	err = transportError(op, err, false)
	return attempt{err: err, retry: errors.Is(err, flow.ErrNetwork) && ctx.Err() == nil}
}

// transportError maps a failed Do. Refusals of our own (insecure http, a
// redirect downgrade, an oversized answer) keep their kind; an untrusted
// certificate fails the handshake, before anything was sent.
func transportError(op string, err error, wrote bool) error {
	var ke *kindError
	switch {
	case wrote && errors.Is(err, errUnusable) && errors.As(err, &ke):
		return kindErr(flow.ErrOutcomeUnknown, err, "%s: %v; the request was delivered, so whether it took effect is not known", op, ke)
	case errors.As(err, &ke):
		return kindErr(ke.kind, err, "%s: %v", op, ke)
	case transportKind(err) == flow.ErrCertificate:
		kind, text := certificateText(err, time.Now())
		return kindErr(kind, err, "%s: %s", op, text)
	case wrote && timedOut(err):
		return kindErr(flow.ErrOutcomeUnknown, err, "%s: the request was sent but no answer came within the time limit (--timeout)", op)
	case wrote:
		return kindErr(flow.ErrOutcomeUnknown, err, "%s: the request was sent but no answer arrived: %v", op, err)
	case timedOut(err):
		return kindErr(flow.ErrNetwork, err, "%s: the service did not answer within the time limit (--timeout)", op)
	default:
		return kindErr(flow.ErrNetwork, err, "%s: %v", op, err)
	}
}

// timedOut reports whether a request ended at the time limit: the call's
// or the command's deadline, or the HTTP client's Timeout and header
// limit, which are the same --timeout. A connect or TLS handshake that
// took too long is not it: the transport says so in its own words.
func timedOut(err error) bool { return errors.Is(err, context.DeadlineExceeded) }

func (c *Client) statusError(resp *http.Response, op string, a audience, secrets ...string) *StatusError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return newStatusError(op, a, resp.StatusCode, resp.Header, requestURL(resp), body, time.Now(), secrets...)
}

// requestURL is the URL an answer came from, nil if unknown.
func requestURL(resp *http.Response) *url.URL {
	if resp == nil || resp.Request == nil {
		return nil
	}
	return resp.Request.URL
}

// TransportError classifies what went wrong with a request that nothing
// could have acted on (a GET), as enroll's own calls report it: for
// enroll doctor, which makes such requests itself.
func TransportError(op string, err error) error { return transportError(op, err, false) }

// certificateText explains a certificate that failed verification. One
// refused for its validity period is about this device's clock as often
// as about the certificate: one not yet valid means the clock is behind (a
// device without a battery-backed clock, back in 1970), and is named so;
// one expired is said with the clock's reading, so that a clock far ahead
// is seen too.
func certificateText(err error, now time.Time) (error, string) {
	var cie x509.CertificateInvalidError
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	day := "2006-01-02 15:04 MST"
	switch {
	case errors.As(err, &cie) && cie.Reason == x509.Expired && cie.Cert != nil:
		c := cie.Cert
		if now.Before(c.NotBefore) {
			return flow.ErrClock, fmt.Sprintf("the server's certificate is valid from %s, and this device's clock reads %s: the clock is behind, or the certificate is not valid yet",
				c.NotBefore.UTC().Format(day), now.UTC().Format(day))
		}
		return flow.ErrCertificate, fmt.Sprintf("the server's certificate expired on %s (this device's clock reads %s; if the clock is wrong, set it)",
			c.NotAfter.UTC().Format(day), now.UTC().Format(day))
	case errors.As(err, &uae) && uae.Cert != nil:
		return flow.ErrCertificate, fmt.Sprintf("the server's certificate, issued by %s, is signed by an unknown authority", issuer(uae.Cert))
	case errors.As(err, &hne) && hne.Certificate != nil:
		return flow.ErrCertificate, "the server's certificate is for another name: " + flow.SanitizeMax(hne.Error(), maxText)
	}
	return flow.ErrCertificate, flow.SanitizeMax(err.Error(), maxText)
}

// issuer names a certificate's issuer: its common name, else its
// organization, else the whole name.
func issuer(c *x509.Certificate) string {
	switch {
	case c.Issuer.CommonName != "":
		return flow.SanitizeMax(c.Issuer.CommonName, 100)
	case len(c.Issuer.Organization) > 0:
		return flow.SanitizeMax(c.Issuer.Organization[0], 100)
	}
	return flow.SanitizeMax(c.Issuer.String(), 100)
}

// transportKind tells a server certificate that failed verification (a
// private CA not given, an intercepting proxy, a wrong host) from other
// transport trouble: trying again cannot fix it, and the person must be
// told to look at the certificate rather than the network.
func transportKind(err error) error {
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	if errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie) {
		return flow.ErrCertificate
	}
	return flow.ErrNetwork
}

// logText is an error made safe for the verbose log. A service's answer is
// logged by its status alone: the message it wrote may quote a secret that
// this call did not send (and so could not cut out), and the log is read by
// people the secret is not for. Other errors are enroll's own words around
// what the network said (a certificate's names), sanitized.
func logText(err error) string {
	if err == nil {
		return ""
	}
	var se *StatusError
	if errors.As(err, &se) {
		text := se.Op + ": the service answered " + statusWords(se.Status)
		if se.RetryAfter > 0 { // a number enroll read, not the server's words
			text += "; it asks to wait " + WaitWords(se.RetryAfter)
		}
		return text
	}
	return flow.SanitizeMax(err.Error(), maxLogText)
}
