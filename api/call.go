package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"enroll/flow"
)

// call begins one public call of the Client. It bounds ctx by the Client's
// Timeout, so that every wait of the call (connect, TLS, headers, body,
// both auth styles, retries and their sleeps) ends by one deadline, and it
// records the secrets the call sends. Every log line of the call and the
// error it returns (done, deferred) have those secrets cut out in every
// form SecretForms knows: a service may echo a request back in whatever
// encoding it received it.
//
// A request that failed in transport because the caller cancelled ctx
// (Ctrl-C, SIGTERM) is an interruption, whatever the transport made of it;
// an answer that arrived, or a request that may have reached the service,
// is reported as what it is.
func (c *Client) call(parent context.Context, err *error, secrets ...string) (context.Context, func()) {
	ctx, cancel := context.WithTimeout(parent, c.timeout)
	ctx = flow.WithSecrets(ctx, secrets...)
	return ctx, func() {
		cancel()
		if errors.Is(*err, flow.ErrNetwork) && errors.Is(parent.Err(), context.Canceled) && !errors.Is(*err, flow.ErrInterrupted) {
			*err = fmt.Errorf("%w: %w", flow.ErrInterrupted, *err)
		}
		*err = flow.RedactError(*err, flow.SecretsOf(ctx)...)
	}
}

// log writes one line of the verbose log with the call's secrets cut out:
// a host or path from a discovery document, or a transport error quoting
// one, is the service's text.
func (c *Client) log(ctx context.Context, format string, args ...any) {
	c.logf("%s", flow.Redact(fmt.Sprintf(format, args...), flow.SecretsOf(ctx)...))
}

// timeLeft is how long ctx still runs; ok is false without a deadline.
func timeLeft(ctx context.Context) (time.Duration, bool) {
	dl, ok := ctx.Deadline()
	return time.Until(dl), ok
}
