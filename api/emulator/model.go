package emulator

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// Errors of the programmatic API.
var (
	ErrUnknownOrganization = errors.New("emulator: unknown organization")
	ErrUnknownGroup        = errors.New("emulator: unknown group")
	ErrNoGroups            = errors.New("emulator: an invitation needs at least one group")
	ErrDuplicateToken      = errors.New("emulator: invitation token already in use")
	ErrUnknownInvitation   = errors.New("emulator: unknown invitation")
)

// CreateInvitation creates an open invitation, as an administrator would,
// without putting it in the outbox. A ValidUntil in the past is allowed so
// tests can make expired invitations.
func (e *Emulator) CreateInvitation(spec InvitationSpec) (Invitation, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inv, err := e.createLocked(spec)
	if err != nil {
		return Invitation{}, err
	}
	return e.copyInvitation(inv, e.base), nil
}

func (e *Emulator) createLocked(spec InvitationSpec) (*invitation, error) {
	if spec.Org == "" {
		spec.Org = DefaultOrg
	}
	org := e.orgs[spec.Org]
	if org == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownOrganization, spec.Org)
	}
	if len(spec.Groups) == 0 {
		return nil, ErrNoGroups
	}
	for _, g := range spec.Groups {
		if !slices.Contains(org.groups, g) {
			return nil, fmt.Errorf("%w: %q in %q", ErrUnknownGroup, g, spec.Org)
		}
	}
	if spec.Token == "" {
		spec.Token = e.randToken()
	} else if e.invitations[spec.Token] != nil {
		return nil, ErrDuplicateToken
	}
	if spec.ValidUntil.IsZero() {
		spec.ValidUntil = e.clock().Add(DefaultInvitationTTL)
	}
	inv := &invitation{
		Invitation: Invitation{
			ID:                  e.randUUID(),
			Org:                 spec.Org,
			Token:               spec.Token,
			Email:               spec.Email,
			Groups:              union(nil, spec.Groups),
			ValidUntil:          spec.ValidUntil.UTC().Truncate(time.Second),
			ExistingClientsOnly: spec.ExistingClientsOnly,
			OnlyClientID:        spec.OnlyClientID,
		},
		state: StateOpen,
	}
	e.invitations[inv.Token] = inv
	return inv, nil
}

// Revoke revokes an invitation, whatever its state; a client that already
// accepted it keeps its groups, as revoking is about the invitation only.
func (e *Emulator) Revoke(token string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	inv := e.invitations[token]
	if inv == nil {
		return ErrUnknownInvitation
	}
	inv.state = StateRevoked
	return nil
}

// Invitation reports the current state of the invitation with this token.
func (e *Emulator) Invitation(token string) (InvitationState, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	inv := e.invitations[token]
	if inv == nil {
		return InvitationState{}, false
	}
	return InvitationState{
		Invitation: e.copyInvitation(inv, e.base),
		State:      inv.state,
		AcceptedBy: inv.acceptedBy,
		Expired:    e.clock().After(inv.ValidUntil),
	}, true
}

// Outbox returns the invitations created through the send call, oldest
// first: what the service would have mailed.
func (e *Emulator) Outbox() []Invitation {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Invitation, len(e.outbox))
	for i, inv := range e.outbox {
		out[i] = e.copyInvitation(inv, e.base)
	}
	return out
}

// Clients returns the registered device clients, oldest first.
func (e *Emulator) Clients() []Client {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Client, len(e.clients))
	for i, c := range e.clients {
		out[i] = copyClient(c)
	}
	return out
}

// AddClient registers a device client directly, as if it had enrolled
// earlier, so tests can start from an already registered device.
func (e *Emulator) AddClient(name string, groups ...string) Client {
	e.mu.Lock()
	defer e.mu.Unlock()
	return copyClient(e.newClientLocked(name, groups))
}

// Calls counts the requests an operation (OpAccept, …) received, including
// those answered by a fault or while the service was down.
func (e *Emulator) Calls(op string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[op]
}

func (e *Emulator) newClientLocked(name string, groups []string) *Client {
	e.seq++
	if name == "" {
		name = fmt.Sprintf("device-%d", e.seq)
	}
	c := &Client{
		ID:           e.randUUID(),
		ClientID:     e.randUUID(),
		ClientSecret: e.randToken(),
		Name:         name,
		Groups:       union(nil, groups),
	}
	e.clients = append(e.clients, c)
	e.byClientID[c.ClientID] = c
	return c
}

// copyInvitation returns a copy that shares no slices with the model, with
// the link built from base (which may be derived from a request).
func (e *Emulator) copyInvitation(inv *invitation, base string) Invitation {
	out := inv.Invitation
	out.Groups = slices.Clone(inv.Groups)
	out.Link = base + "/invitation?token=" + url.QueryEscape(inv.Token)
	return out
}

func copyClient(c *Client) Client {
	out := *c
	out.Groups = slices.Clone(c.Groups)
	return out
}

// refusal is why an invitation cannot be used now; the status is the
// assumed one from wire.go, code and message go into the op's error shape.
type refusal struct {
	status        int
	code, message string
}

// checkUsableLocked applies the rules shared by accept and decline. Revoked
// wins over used (the administrator's latest word), used over expired (the
// more useful thing to tell the person).
func (e *Emulator) checkUsableLocked(inv *invitation) *refusal {
	switch {
	case inv == nil:
		return &refusal{404, "invitation_not_found", "No invitation has this token."}
	case inv.state == StateRevoked:
		return &refusal{410, "invitation_revoked", "The invitation has been revoked."}
	case inv.state == StateAccepted:
		return &refusal{409, "invitation_used", "The invitation has already been accepted."}
	case inv.state == StateDeclined:
		return &refusal{409, "invitation_declined", "The invitation has been declined."}
	case e.clock().After(inv.ValidUntil):
		return &refusal{410, "invitation_expired", "The invitation has expired."}
	}
	return nil
}

// clientForBearerLocked resolves a device access token, or nil when it is
// unknown or expired.
func (e *Emulator) clientForBearerLocked(tok string) *Client {
	at, ok := e.tokens[tok]
	if !ok || !e.clock().Before(at.expires) {
		return nil
	}
	return at.client
}

// ClientOfToken reports the device client a live access token was issued
// to: how a test tells that a reader of the credentials file really
// obtained one.
func (e *Emulator) ClientOfToken(tok string) (Client, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.clientForBearerLocked(tok)
	if c == nil {
		return Client{}, false
	}
	return *c, true
}
