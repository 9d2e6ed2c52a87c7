package flow

import (
	"context"
	"time"
)

// Credentials are what a device client keeps between runs: the identity the
// service gave it and the server that gave it. The persist package owns the
// file format; this is the in-memory shape every layer agrees on.
type Credentials struct {
	Server       string
	ID           string
	ClientID     string
	ClientSecret string
	Name         string
	EnrolledAt   time.Time
	// Sealed says the secret is kept sealed to this device's TPM on disk
	// (persist's version 2 file); in memory it is plain either way.
	Sealed bool
}

// Client is the device client the service describes in its answer to an
// accept call. ClientSecret is empty when the device was already registered.
type Client struct {
	ID           string
	ClientID     string
	ClientSecret string
	Name         string
}

// AcceptRequest is one accept call. Bearer is set only for a device that is
// already a client; it is an access token, held in memory only.
type AcceptRequest struct {
	Server string
	Token  string
	Name   string
	Bearer string
}

// DeclineRequest is one decline call.
type DeclineRequest struct {
	Server string
	Token  string
}

// Service is the invitation service as the state machine needs it. The api
// package satisfies it.
//
// Accept returns the raw body of a successful answer without parsing it, so
// that the driver can journal the bytes before anything can go wrong with
// them (DESIGN §5); DecodeAccept parses them afterwards. When the body of a
// successful answer could not be read to its end, Accept returns the bytes
// that arrived (never nil) together with the reason.
//
// Accept and Decline may be stopped by ctx's cancellation only while
// nothing can have reached the service (before a connection carries the
// request), and then fail with ErrInterrupted; once the request may have
// reached it they wait for the answer until ctx's deadline, whatever
// interrupts the run.
type Service interface {
	Authenticate(ctx context.Context, server string, c Credentials) (bearer string, err error)
	Accept(ctx context.Context, req AcceptRequest) (raw []byte, err error)
	DecodeAccept(raw []byte) (Client, error)
	Decline(ctx context.Context, req DeclineRequest) error
}

// Pending is an accept answer that arrived but was not yet committed to the
// credentials file. The store journals it so a later run can finish the job.
type Pending struct {
	Server     string
	Name       string
	Raw        []byte
	ReceivedAt time.Time
	// Existing is the client that was enrolled when the answer arrived, so a
	// recovered answer without a secret can still be completed.
	Existing *Credentials
	// InvitationDigest identifies the invitation the answer is for without
	// keeping its token (see InvitationDigest).
	InvitationDigest string
}

// Snapshot is what the store found on disk when a run began.
type Snapshot struct {
	Existing *Credentials // nil when this device is not a client yet
	Pending  *Pending     // an interrupted enrollment to finish, or nil
	Warnings []string     // repairs the store made (modes tightened, corrupt file moved aside)
}

// Store is the credentials store as the state machine needs it. The persist
// package satisfies it.
//
// Prepare takes the enrollment lock (waiting a bounded time) and proves the
// store is writable; the lock is held until Release. Save commits the
// credentials atomically and then removes any journal.
type Store interface {
	Load(ctx context.Context) (Snapshot, error)
	Prepare(ctx context.Context) error
	Journal(p Pending) error
	Save(c Credentials) error
	// SetAside moves an unusable journal out of the way, keeping it, and
	// returns its new path.
	SetAside() (string, error)
	Release() error
	Path() string
	JournalPath() string
}
