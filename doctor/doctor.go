// Package doctor is `enroll doctor`: field diagnosis of a device, one
// check after the other, each ok, warn, fail or skip with a line of detail
// and, where something is wrong, what to do. In order: the configuration
// in effect and where each value came from; the proxy; DNS; TCP; TLS (the
// chain, its validity and expiry); the clock against the server's; the
// discovery document; the token endpoint with the stored credentials; the
// credentials file and its directory; the TPM a sealed secret needs (or
// ENROLL_SEAL asks for); a pending journal or answers set aside. It never
// sends an invitation, never prints a secret, and changes nothing on disk.
package doctor

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/url"
	"time"

	"enroll/api"
	"enroll/flow"
	"enroll/persist"
)

// Status is a check's verdict.
type Status string

const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip" // it could not run: an earlier check failed, or it does not apply
)

// Check is one line of the report.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Hint   string `json:"hint,omitempty"`
	// Kind classifies a failure (a flow sentinel), for the exit code.
	Kind error `json:"-"`
}

// Setting is one value of the configuration in effect.
type Setting struct {
	Name, Value, Source string
}

// Options are what the checks look at. Nothing here is ever written to.
type Options struct {
	Settings []Setting
	Problems []string // lines of the defaults file that could not be used
	// Server is the normalized server in effect: --server, else the
	// enrolled one; "" when there is none.
	Server string
	// Proxy picks the proxy for a request (http.ProxyFromEnvironment).
	Proxy func(*http.Request) (*url.URL, error)
	// HTTP is the client the service is reached with (api.NewHTTPClient);
	// Insecure, the same without certificate checks, is used once, only to
	// read the server's clock when its certificate is refused: a GET of
	// the public discovery document, nothing else.
	HTTP, Insecure *http.Client
	Service        *api.Client
	Store          *persist.Store // opened read-only
	Timeout        time.Duration  // each network check (the command has one overall deadline too)
	Now            func() time.Time
	// ProxyVars are the proxy variables set (HTTPS_PROXY, …), checked for
	// values Go's client would refuse or ignore.
	ProxyVars map[string]string
	// ReaderGroup is the reader group configured (ENROLL_READER_GROUP),
	// compared with the one the file is shared with.
	ReaderGroup string
	// DefaultsErr is why the defaults file could not be read, if it could
	// not: this run may then see other settings than the first-boot unit.
	DefaultsErr error
	// Seal is ENROLL_SEAL as set ("" for none), TPM the TPM that
	// ENROLL_TPM names, and Sealer that TPM, proven when nothing is
	// sealed yet but Seal asks for it. The Store unseals with the same.
	Seal, TPM string
	Sealer    Sealer
}

// Run performs every check, in order.
func Run(ctx context.Context, o Options) []Check {
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &run{o: o}
	r.config()
	snap, loadErr := o.Store.Load(ctx)
	if snap.Existing != nil {
		r.enrolled = snap.Existing.Server
		if o.Server == "" {
			r.o.Server = r.enrolled
		}
	}
	var journalSealed bool
	var journalErr error
	if loadErr == nil && snap.Pending != nil {
		journalSealed, journalErr = o.Store.ProveJournal(ctx)
	}
	r.network(ctx)
	r.token(ctx, snap, loadErr)
	r.file(snap, loadErr)
	r.tpm(ctx, snap, loadErr, journalSealed, journalErr)
	r.journal(snap, journalErr)
	return r.checks
}

// run gathers the checks as they are made.
type run struct {
	o      Options
	checks []Check
	// serverDate is the server's clock from its Date header; tlsClock is
	// a certificate refused for its validity period.
	serverDate time.Time
	tlsClock   bool
	reachable  bool   // discovery answered: the token check can run
	getErr     error  // why the discovery document could not be fetched
	enrolled   string // the server the device is enrolled with, if it is
}

func (r *run) add(c Check) { r.checks = append(r.checks, c) }

// Exit is the exit code of a report: 0 when nothing failed, else the code
// of the first failure's kind, as the error table gives it (5 the network
// or the service, 4 the stored credentials or a sealed secret that does
// not unseal here, 6 the store or a TPM that cannot seal, 7 a pending
// enrollment).
func Exit(checks []Check) int {
	for _, c := range checks {
		if c.Status == Fail {
			if c.Kind == nil {
				return flow.ExitUnexpected
			}
			return flow.Classify(c.Kind).Exit
		}
	}
	return flow.ExitOK
}

// failed is a Check for an error: its kind and the error table's hint.
func failed(name string, err error, detail string) Check {
	c := flow.Classify(err)
	if detail == "" {
		detail = flow.SanitizeMax(err.Error(), 300)
	}
	return Check{Name: name, Status: Fail, Detail: detail, Hint: c.Hint, Kind: c.Kind}
}

// skipped is a check that cannot run because of one before it.
func skipped(name, why string) Check { return Check{Name: name, Status: Skip, Detail: why} }

// snapshot is what the store found.
type snapshot = flow.Snapshot

// InsecureClient is the client that reads the server's clock when its
// certificate is refused (see Options.Insecure): it checks no certificate,
// follows no redirect, and is used for one GET of the public discovery
// document. It is doctor's alone; enroll's own calls never go without
// certificate checks.
func InsecureClient(timeout time.Duration, proxy func(*http.Request) (*url.URL, error)) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:           proxy,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // reads the Date header only
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
