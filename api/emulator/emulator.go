// Package emulator is an in-memory stand-in for the 10Duke invitation
// service: the token endpoint, the discovery document and the accept,
// decline and send calls, shaped by the assumptions in package api
// (wire.go). Tests, `enroll demo` and `enroll emulator` use it, so that
// enrollment can be exercised end to end on loopback only.
//
// Everything lives in one Emulator value guarded by one mutex; there is no
// package-level mutable state, so tests can run many emulators in parallel.
// Besides the HTTP surface it offers a programmatic one (CreateInvitation,
// Invitation, Clients, FailNext, …) for tests, and a small admin-only HTTP
// control surface under /_emulator/ for tests that run it out of process.
package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"enroll/api"
)

// Seed data every emulator starts with, so that a demo or a test has an
// organization to invite to without setup.
const (
	DefaultOrg     = "org-1"
	DefaultOrgName = "Acme Devices"
	GroupKiosks    = "grp-kiosks"
	GroupLab       = "grp-lab"
)

// Operation names used by Calls and FailNext.
const (
	OpAccept    = "accept"
	OpDecline   = "decline"
	OpToken     = "token"
	OpSend      = "send"
	OpDiscovery = "discovery"
)

// Lifetimes. The access token lifetime is what the token endpoint reports in
// expires_in; the invitation default applies when a spec has no ValidUntil.
const (
	AccessTokenTTL       = time.Hour
	DefaultInvitationTTL = 7 * 24 * time.Hour
	maxBody              = 64 << 10 // cap on every request body
)

// Options configure an Emulator. The zero value is usable.
type Options struct {
	// Clock tells the time for token and invitation expiry; tests inject a
	// fake one so that expiry needs no sleeping. Default time.Now.
	Clock func() time.Time
	// AdminToken is the bearer token the send call and the control surface
	// require. Default: a random token, see Emulator.AdminToken.
	AdminToken string
	// Rand is the source of every token, id and secret. Default
	// crypto/rand. It is read under the emulator's lock, so it need not be
	// safe for concurrent use; a read failure panics, because an emulator
	// without randomness cannot hand out credentials.
	Rand io.Reader
}

// Emulator is the in-memory service. Create it with New; it is an
// http.Handler.
type Emulator struct {
	clock func() time.Time
	admin string
	mux   *http.ServeMux

	mu          sync.Mutex
	rand        io.Reader
	base        string
	orgs        map[string]*organization
	invitations map[string]*invitation // by invitation token
	outbox      []*invitation
	clients     []*Client
	byClientID  map[string]*Client // by OAuth clientId
	tokens      map[string]accessToken
	calls       map[string]int
	faults      map[string][]Fault
	down        bool
	seq         int // numbers default device names
}

// State is where an invitation is in its life. Expiry is not a state: it
// depends on the clock, see InvitationState.Expired.
type State string

// Invitation states.
const (
	StateOpen     State = "open"
	StateAccepted State = "accepted"
	StateDeclined State = "declined"
	StateRevoked  State = "revoked"
)

// InvitationSpec describes an invitation to create.
type InvitationSpec struct {
	Org                 string    // "" means DefaultOrg
	Groups              []string  // at least one, all in Org
	Email               string    // informational only
	ValidUntil          time.Time // zero means DefaultInvitationTTL from the clock
	ExistingClientsOnly bool      // only an already registered device may accept
	OnlyClientID        string    // only this client (its id or clientId) may accept
	Token               string    // "" means random; fixtures use fixed tokens
}

// Invitation is a created invitation as an administrator sees it.
type Invitation struct {
	ID                  string
	Org                 string
	Token               string
	Link                string // <base>/invitation?token=<token>; relative while no base URL is set
	Email               string
	Groups              []string
	ValidUntil          time.Time
	ExistingClientsOnly bool
	OnlyClientID        string
}

// InvitationState is a snapshot of an invitation and what became of it.
type InvitationState struct {
	Invitation
	State      State
	AcceptedBy string // Client.ID of the accepting client, once accepted
	Expired    bool   // ValidUntil lies before the emulator's clock
}

// Client is a registered device client. ClientSecret is included because
// tests check that a device stored exactly what the service issued.
type Client struct {
	ID           string
	ClientID     string
	ClientSecret string
	Name         string
	Groups       []string
}

type organization struct {
	name   string
	groups []string
}

type invitation struct {
	Invitation
	state      State
	acceptedBy string
}

type accessToken struct {
	client  *Client
	expires time.Time
}

// New returns an emulator seeded with DefaultOrg and its two groups.
func New(opts Options) *Emulator {
	e := &Emulator{
		clock:       opts.Clock,
		admin:       opts.AdminToken,
		rand:        opts.Rand,
		orgs:        map[string]*organization{},
		invitations: map[string]*invitation{},
		byClientID:  map[string]*Client{},
		tokens:      map[string]accessToken{},
		calls:       map[string]int{},
		faults:      map[string][]Fault{},
	}
	if e.clock == nil {
		e.clock = time.Now
	}
	if e.rand == nil {
		e.rand = rand.Reader
	}
	if e.admin == "" {
		e.admin = e.randToken()
	}
	e.AddOrganization(DefaultOrg, DefaultOrgName, GroupKiosks, GroupLab)
	e.mux = e.routes()
	return e
}

// ServeHTTP serves the service API, the invitation landing page and the
// control surface.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mux.ServeHTTP(w, r)
}

// SetBaseURL sets the URL the emulator is reached at, for invitation links
// and the discovery document. Until it is set, HTTP answers derive it from
// the request's Host.
func (e *Emulator) SetBaseURL(u string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.base = strings.TrimRight(u, "/")
}

// AdminToken returns the bearer token that send and /_emulator/ require.
func (e *Emulator) AdminToken() string { return e.admin }

// AddOrganization adds an organization, or adds groups to an existing one.
func (e *Emulator) AddOrganization(id, name string, groups ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.orgs[id]
	if o == nil {
		o = &organization{name: name}
		e.orgs[id] = o
	}
	o.groups = union(o.groups, groups)
}

// randBytes reads n bytes from the configured source. Callers hold e.mu
// (or run inside New, before the emulator is shared).
func (e *Emulator) randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(e.rand, b); err != nil {
		panic(fmt.Sprintf("emulator: random source failed: %v", err))
	}
	return b
}

// randToken is 32 random bytes, base64url without padding (43 characters):
// the shape of invitation tokens, access tokens and client secrets.
func (e *Emulator) randToken() string {
	return base64.RawURLEncoding.EncodeToString(e.randBytes(32))
}

// randUUID is a random (version 4) UUID, the shape of 10Duke object ids.
func (e *Emulator) randUUID() string {
	b := e.randBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// union appends to a the elements of b it does not hold yet, keeping order.
func union(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// wireTime formats times the way wire.go assumes: RFC 3339 in UTC.
func wireTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// invitationBody is the InvitationBody the send call answers with.
func invitationBody(inv Invitation) api.InvitationBody {
	return api.InvitationBody{
		ID:                  inv.ID,
		OrganizationID:      inv.Org,
		Email:               inv.Email,
		GroupIDs:            append([]string{}, inv.Groups...),
		ValidUntil:          wireTime(inv.ValidUntil),
		ExistingClientsOnly: inv.ExistingClientsOnly,
		ClientID:            inv.OnlyClientID,
		Token:               inv.Token,
		Link:                inv.Link,
	}
}
