package main

// The classes of the hostile-service scenarios, each with the guarantee it
// gives: SECURITY.md lists them in its section "The hostile service".
const (
	hsSwitch     = "a protocol switch (101) after the request, then a trickle of bytes → the connection is closed at once; exit 7 (outcome unknown, never \"nothing changed\") once an accept or decline was written, exit 5 for discovery and the token endpoint; nothing stored"
	hsStall      = "no answer: a TLS handshake that never ends, a request never answered, headers that never end → ends at --timeout and never sooner (connecting alone has a limit of its own, 10 s at most); exit 7 once an accept or decline was written, else 5; nothing stored"
	hsEndless    = "an answer whose body never ends (a trickle of chunks) → ends at --timeout; an accept's bytes so far journaled and set aside (exit 7); discovery falls back to the default endpoint; the token endpoint exit 5"
	hsBroken     = "broken HTTP after the request: a reset, a close without an answer, a garbage status line, a status HTTP does not define (999), bad chunking, a body shorter than its length, endless 1xx answers, a redirect loop → exit 7 once an accept or decline was written (its bytes so far set aside), exit 5 for discovery and the token endpoint; nothing stored"
	hsHuge       = "oversized answers: a 2 MiB body, a gzip bomb, 100 KiB of headers → capped (1 MiB of body, 64 KiB of headers), never read whole; an accept's first MiB set aside (exit 7); a discovery document falls back to the default endpoint"
	hsUnstorable = "accept answers that cannot be stored as issued: invalid UTF-8 or a lone surrogate in the secret, a 1 MB id or name, controls in the secret, white space around the id, a name holding the invitation or the secret → exit 7, the answer journaled as received and set aside, no credentials file; the field's value never printed"
	hsAnother    = "an enrolled device's accept answer naming another client (its id, clientId or both, with or without a new secret) → exit 7; the old file byte for byte, the answer set aside"
	hsEcho       = "error answers that echo the request: the body raw, form-encoded or JSON-escaped, the Basic Authorization header, the token in the status line's reason phrase or as the whole status line → the invitation token and the client secret cut out in every encoding, from stderr, --json and --verbose"
	hsWait       = "Retry-After beyond the wait enroll allows (3 years, a date in year 9999, more than --timeout leaves) → no wait started, the wait reported as the service asked it, exit 5; a refusal's Retry-After is never shown"
	hsOrigin     = "the secret or the token led elsewhere: discovery naming another host, port or scheme, accept or decline redirected to another host → refused before anything is sent there (exit 5); the other host receives nothing"
	hsSignal     = "SIGINT or SIGTERM during a wait before anything can have reached the service (a TLS handshake of discovery, of the token endpoint, of the accept or decline call; discovery or the token endpoint never answering) → exit 130 within 1 s, \"nothing was sent\"; nothing changed"
	hsClean      = "a well-formed answer whose name carries escape sequences, C1 controls and a bidi override, or a stored name holding the secret → exit 0, the file exactly as issued at 0600, every printed value escaped and the secret cut out"
)
