package emulator

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"enroll/api"
)

// The control surface lets a test that runs `enroll emulator` as another
// process do what in-process tests do with the methods: create invitations,
// read their state, queue faults, revoke, list clients. Every route needs
// the admin bearer token; answers never hold client secrets.

// ControlSpec is the body of POST /_emulator/invitations. validUntil may
// lie in the past, to make an expired invitation.
type ControlSpec struct {
	OrganizationID      string   `json:"organizationId,omitempty"`
	GroupIDs            []string `json:"groupIds"`
	Email               string   `json:"email,omitempty"`
	ValidUntil          string   `json:"validUntil,omitempty"`
	ExistingClientsOnly bool     `json:"existingClientsOnly,omitempty"`
	ClientID            string   `json:"clientId,omitempty"`
	Token               string   `json:"token,omitempty"`
}

// ControlState is the answer of GET /_emulator/invitations/{token}.
type ControlState struct {
	api.InvitationBody
	State      State  `json:"state"`
	AcceptedBy string `json:"acceptedBy,omitempty"`
	Expired    bool   `json:"expired"`
}

// ControlFault is the body of POST /_emulator/faults/{op}; delay is a Go
// duration such as "1.5s".
type ControlFault struct {
	Status           int    `json:"status,omitempty"`
	Body             string `json:"body,omitempty"`
	RetryAfter       string `json:"retryAfter,omitempty"`
	Delay            string `json:"delay,omitempty"`
	DropBeforeCommit bool   `json:"dropBeforeCommit,omitempty"`
	DropAfterCommit  bool   `json:"dropAfterCommit,omitempty"`
}

// ControlClient is one entry of GET /_emulator/clients.
type ControlClient struct {
	ID       string   `json:"id"`
	ClientID string   `json:"clientId"`
	Name     string   `json:"name"`
	GroupIDs []string `json:"groupIds"`
}

func (e *Emulator) controlRoutes(m *http.ServeMux) {
	h := func(pattern string, f func(*http.Request) reply) { m.Handle(pattern, e.requireAdmin(f)) }
	h("POST /_emulator/invitations", e.ctlCreate)
	h("GET /_emulator/invitations/{token}", e.ctlState)
	h("POST /_emulator/revoke/{token}", e.ctlRevoke)
	h("POST /_emulator/faults/{op}", e.ctlFault)
	h("POST /_emulator/down", e.ctlDown)
	h("GET /_emulator/clients", e.ctlClients)
	h("GET /_emulator/calls", e.ctlCalls)
}

// requireAdmin guards a control route with the admin token and caps its body.
func (e *Emulator) requireAdmin(f func(*http.Request) reply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, _ := bearerToken(r)
		if subtle.ConstantTimeCompare([]byte(tok), []byte(e.admin)) != 1 {
			rp := ctlError(http.StatusUnauthorized, "the admin bearer token is required")
			rp.header.Set("WWW-Authenticate", `Bearer realm="enroll-emulator"`)
			rp.write(w)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		f(r).write(w)
	}
}

func ctlError(status int, msg string) reply {
	return jsonReply(status, map[string]string{"error": msg})
}

func (e *Emulator) ctlCreate(r *http.Request) reply {
	var s ControlSpec
	if bad := decodeBody(r, &s); bad != nil {
		return ctlError(bad.status, bad.message)
	}
	var until time.Time
	if s.ValidUntil != "" {
		var err error
		if until, err = time.Parse(time.RFC3339, s.ValidUntil); err != nil {
			return ctlError(http.StatusBadRequest, "validUntil must be an RFC 3339 time")
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	inv, err := e.createLocked(InvitationSpec{
		Org: s.OrganizationID, Groups: s.GroupIDs, Email: s.Email, ValidUntil: until,
		ExistingClientsOnly: s.ExistingClientsOnly, OnlyClientID: s.ClientID, Token: s.Token,
	})
	if err != nil {
		return ctlError(http.StatusBadRequest, err.Error())
	}
	return jsonReply(http.StatusCreated, invitationBody(e.copyInvitation(inv, e.baseLocked(r))))
}

func (e *Emulator) ctlState(r *http.Request) reply {
	st, ok := e.Invitation(r.PathValue("token"))
	if !ok {
		return ctlError(http.StatusNotFound, "unknown invitation")
	}
	body := invitationBody(st.Invitation)
	body.Token, body.Link = "", "" // the caller has the token already
	return jsonReply(http.StatusOK, ControlState{body, st.State, st.AcceptedBy, st.Expired})
}

func (e *Emulator) ctlRevoke(r *http.Request) reply {
	if err := e.Revoke(r.PathValue("token")); errors.Is(err, ErrUnknownInvitation) {
		return ctlError(http.StatusNotFound, "unknown invitation")
	}
	return reply{status: http.StatusNoContent}
}

func (e *Emulator) ctlFault(r *http.Request) reply {
	op := r.PathValue("op")
	if !validOp(op) {
		return ctlError(http.StatusNotFound, "unknown op")
	}
	var cf ControlFault
	if bad := decodeBody(r, &cf); bad != nil {
		return ctlError(bad.status, bad.message)
	}
	f := Fault{Status: cf.Status, Body: cf.Body, RetryAfter: cf.RetryAfter,
		DropBeforeCommit: cf.DropBeforeCommit, DropAfterCommit: cf.DropAfterCommit}
	if cf.Delay != "" {
		d, err := time.ParseDuration(cf.Delay)
		if err != nil || d < 0 {
			return ctlError(http.StatusBadRequest, "delay must be a Go duration such as 1.5s")
		}
		f.Delay = d
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		return ctlError(http.StatusBadRequest, "status must be an HTTP status")
	}
	e.FailNext(op, f)
	return reply{status: http.StatusNoContent}
}

func (e *Emulator) ctlDown(r *http.Request) reply {
	var v struct {
		Down bool `json:"down"`
	}
	if bad := decodeBody(r, &v); bad != nil {
		return ctlError(bad.status, bad.message)
	}
	e.SetDown(v.Down)
	return reply{status: http.StatusNoContent}
}

func (e *Emulator) ctlClients(*http.Request) reply {
	list := []ControlClient{}
	for _, c := range e.Clients() {
		list = append(list, ControlClient{c.ID, c.ClientID, c.Name, append([]string{}, c.Groups...)})
	}
	return jsonReply(http.StatusOK, list)
}

func (e *Emulator) ctlCalls(*http.Request) reply {
	counts := map[string]int{}
	for _, op := range allOps() {
		counts[op] = e.Calls(op)
	}
	return jsonReply(http.StatusOK, counts)
}
