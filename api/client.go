package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"enroll/flow"
)

// Options are the Client's dependencies; zero values take defaults.
type Options struct {
	HTTP *http.Client // default: NewHTTPClient(HTTPOptions{})
	// Logf receives one line per HTTP exchange (method, host and path,
	// status, duration) and per retry. Bodies, tokens, secrets and headers
	// never reach it.
	Logf        func(format string, args ...any)
	Sleep       func(ctx context.Context, d time.Duration) error // backoff waits; default a timer honouring ctx
	Rand        func() float64                                   // jitter in [0,1); default math/rand/v2
	MaxAttempts int                                              // for idempotent calls (discovery, token); default 4
	// Timeout bounds each call as a whole (discovery, both of x/oauth2's
	// client authentication styles, every retry and Retry-After wait);
	// a deadline of the caller's context that comes sooner wins.
	// Default: the HTTP client's Timeout, or 30s.
	Timeout time.Duration
}

// Client talks to the 10Duke service. It satisfies flow.Service. It is safe
// for concurrent use; the only state it keeps is the discovered token
// endpoint per server and the OAuth configs (so the client-authentication
// style learnt once is reused), all in memory.
type Client struct {
	hc          *http.Client
	timeout     time.Duration
	logf        func(string, ...any)
	sleep       func(context.Context, time.Duration) error
	rand        func() float64
	maxAttempts int

	mu        sync.Mutex
	tokenURLs map[string]string                       // normalized server → token endpoint
	configs   map[[2]string]*clientcredentials.Config // {token URL, client id}
}

var _ flow.Service = (*Client)(nil)

// New builds a Client.
func New(o Options) *Client {
	c := &Client{
		hc: o.HTTP, timeout: o.Timeout, logf: o.Logf, sleep: o.Sleep, rand: o.Rand, maxAttempts: o.MaxAttempts,
		tokenURLs: map[string]string{},
		configs:   map[[2]string]*clientcredentials.Config{},
	}
	if c.hc == nil {
		// Cannot fail: only a CA file can make NewHTTPClient fail.
		c.hc, _ = NewHTTPClient(HTTPOptions{})
	}
	if c.timeout <= 0 {
		c.timeout = c.hc.Timeout
	}
	if c.timeout <= 0 {
		c.timeout = 30 * time.Second
	}
	if c.logf != nil {
		// A copy, so the caller's client is not changed behind its back.
		hc := *c.hc
		base := hc.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		hc.Transport = &logTransport{base: base, log: c.log}
		c.hc = &hc
	} else {
		c.logf = func(string, ...any) {}
	}
	if c.sleep == nil {
		c.sleep = Sleep
	}
	if c.rand == nil {
		c.rand = rand.Float64
	}
	if c.maxAttempts <= 0 {
		c.maxAttempts = 4
	}
	return c
}

// Accept sends the invitation token once; it is never retried, because a
// second accept of a used invitation would hide whether the first worked.
// On 2xx it returns the body bytes as they arrived, even cut short, for
// the caller to journal before DecodeAccept judges them.
func (c *Client) Accept(ctx context.Context, req flow.AcceptRequest) (_ []byte, err error) {
	ctx, done := c.call(ctx, &err, req.Token, req.Bearer)
	defer done()
	payload, err := json.Marshal(AcceptBody{Token: req.Token, Name: req.Name})
	if err != nil {
		return nil, kindErr(flow.ErrUsage, err, "accept: cannot encode the request: %v", err)
	}
	resp, err := c.exchange(ctx, "accept", MethodAccept, req.Server, PathAccept, payload, req.Bearer)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.statusError(resp, "accept", acceptAudience(req.Bearer), req.Token, req.Bearer)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		// The service may have enrolled the device: the bytes that did
		// arrive are returned to be journaled, with why they are short.
		c.log(ctx, "accept: answer cut short after %d bytes: %s", len(raw), logText(err))
		if raw == nil {
			raw = []byte{}
		}
		return raw, kindErr(flow.ErrBadResponse, err, "%s", bodyCut(len(raw), err))
	}
	return raw, nil
}

// bodyCut says why an answer's body ended early, in enroll's words.
func bodyCut(n int, err error) string {
	switch {
	case errors.Is(err, errTooLarge):
		return "it is larger than 1 MiB"
	case timedOut(err):
		return fmt.Sprintf("the time limit (--timeout) ran out after %d bytes", n)
	}
	return fmt.Sprintf("the connection broke after %d bytes", n)
}

// DecodeAccept parses an accept answer. Its messages never quote the bytes:
// they may hold the client secret.
func (c *Client) DecodeAccept(raw []byte) (flow.Client, error) {
	return decodeAccept(raw)
}

func decodeAccept(raw []byte) (flow.Client, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return flow.Client{}, kindErr(flow.ErrBadResponse, nil, "accept: the answer is empty")
	}
	if t[0] != '{' {
		return flow.Client{}, kindErr(flow.ErrBadResponse, nil, "accept: the answer is not a JSON object")
	}
	var cb ClientBody
	if err := json.Unmarshal(t, &cb); err != nil {
		return flow.Client{}, kindErr(flow.ErrBadResponse, nil, "accept: the answer is not valid JSON%s", jsonWhere(err))
	}
	var missing []string
	if strings.TrimSpace(cb.ID) == "" {
		missing = append(missing, "id")
	}
	if strings.TrimSpace(cb.ClientID) == "" {
		missing = append(missing, "clientId")
	}
	if len(missing) > 0 {
		return flow.Client{}, kindErr(flow.ErrBadResponse, nil, "accept: the answer has no %s", strings.Join(missing, " and no "))
	}
	if err := checkAnswer(t, cb); err != nil {
		return flow.Client{}, err
	}
	return flow.Client{ID: cb.ID, ClientID: cb.ClientID, ClientSecret: cb.ClientSecret, Name: cb.Name}, nil
}

// jsonWhere says where JSON went wrong without quoting any of it.
func jsonWhere(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return " (at byte " + strconv.FormatInt(se.Offset, 10) + ")"
	case errors.As(err, &te):
		// Field is a Go-side path ("plain.clientId"); the last part is the JSON key.
		field := te.Field[strings.LastIndex(te.Field, ".")+1:]
		return " (field " + flow.SanitizeMax(field, 64) + " holds a " + te.Value + ")"
	}
	return ""
}

// Decline sends the decline once; like Accept it is not retried.
func (c *Client) Decline(ctx context.Context, req flow.DeclineRequest) (err error) {
	ctx, done := c.call(ctx, &err, req.Token)
	defer done()
	payload, err := json.Marshal(DeclineBody{Token: req.Token})
	if err != nil {
		return kindErr(flow.ErrUsage, err, "decline: cannot encode the request: %v", err)
	}
	resp, err := c.exchange(ctx, "decline", MethodDecline, req.Server, PathDecline, payload, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.statusError(resp, "decline", decline, req.Token)
	}
	return nil
}

// SendInvitation creates an invitation as an administrator. Not retried:
// a retry could mail the same person twice.
func (c *Client) SendInvitation(ctx context.Context, server, adminToken, organizationID string, body SendBody) (_ InvitationBody, err error) {
	ctx, done := c.call(ctx, &err, adminToken)
	defer done()
	if organizationID == "" {
		return InvitationBody{}, kindErr(flow.ErrUsage, nil, "send: no organization id given")
	}
	if adminToken == "" {
		return InvitationBody{}, kindErr(flow.ErrUsage, nil, "send: no administrator access token given")
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return InvitationBody{}, kindErr(flow.ErrUsage, err, "send: cannot encode the request: %v", err)
	}
	path := strings.Replace(PathSendTemplate, "{organizationId}", url.PathEscape(organizationID), 1)
	resp, err := c.exchange(ctx, "send", MethodSend, server, path, payload, adminToken)
	if err != nil {
		return InvitationBody{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return InvitationBody{}, kindErr(flow.ErrBadResponse, nil, "send: the service answered %d without the invitation", resp.StatusCode)
		}
		return InvitationBody{}, c.statusError(resp, "send", send, adminToken)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return InvitationBody{}, kindErr(flow.ErrBadResponse, err, "send: reading the answer failed: %v", err)
	}
	var inv InvitationBody
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return InvitationBody{}, kindErr(flow.ErrBadResponse, nil, "send: the answer is not a JSON object")
	}
	if err := json.Unmarshal(raw, &inv); err != nil {
		return InvitationBody{}, kindErr(flow.ErrBadResponse, nil, "send: the answer is not valid JSON%s", jsonWhere(err))
	}
	return inv, nil
}

func acceptAudience(bearer string) audience {
	if bearer != "" {
		return acceptBearer
	}
	return acceptNew
}
