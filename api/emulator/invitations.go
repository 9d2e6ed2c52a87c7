package emulator

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"enroll/api"
)

// maxNameRunes bounds device names. It is looser than enroll's own rule so
// that the emulator does not hide a client that forgets to check.
const maxNameRunes = 128

// accept enrolls a new device (no Authorization) or adds an existing one,
// identified by its access token, to the invitation's groups.
func (e *Emulator) accept(r *http.Request) reply {
	bearer, authz := bearerToken(r)
	var body api.AcceptBody
	bad := decodeJSON(r, &body) // read before locking; reported after auth

	e.mu.Lock()
	defer e.mu.Unlock()
	var caller *Client
	if authz {
		// An Authorization header that does not resolve is an error, not a
		// silent fallback to creating a new client: that would duplicate
		// a device whose token merely expired.
		if caller = e.clientForBearerLocked(bearer); caller == nil {
			rp := oauthError(http.StatusUnauthorized, "invalid_token", "The access token is invalid or has expired.")
			rp.header.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			return rp
		}
	}
	if bad != nil {
		return codeMessage(bad)
	}
	if body.Token == "" {
		return codeMessage(&refusal{http.StatusBadRequest, "invalid_request", "The invitation token is missing."})
	}
	if !validName(body.Name) {
		return codeMessage(&refusal{http.StatusBadRequest, "invalid_name", "The device name is not valid."})
	}
	inv := e.invitations[body.Token]
	if rf := e.checkUsableLocked(inv); rf != nil {
		return codeMessage(rf)
	}
	if inv.ExistingClientsOnly && caller == nil {
		return codeMessage(&refusal{http.StatusUnprocessableEntity, "existing_clients_only",
			"The invitation is for devices that are already registered."})
	}
	if only := inv.OnlyClientID; only != "" && (caller == nil || (caller.ID != only && caller.ClientID != only)) {
		return codeMessage(&refusal{http.StatusUnprocessableEntity, "client_not_allowed",
			"The invitation is for another device."})
	}

	out := api.ClientBody{}
	if caller == nil {
		caller = e.newClientLocked(body.Name, inv.Groups)
		out.ClientSecret = caller.ClientSecret // shown once, to a new device only
	} else {
		caller.Groups = union(caller.Groups, inv.Groups)
		if body.Name != "" {
			caller.Name = body.Name
		}
	}
	inv.state, inv.acceptedBy = StateAccepted, caller.ID
	out.ID, out.ClientID, out.Name = caller.ID, caller.ClientID, caller.Name
	out.Groups = append([]string{}, caller.Groups...)
	rp := jsonReply(http.StatusOK, out)
	rp.header.Set("Cache-Control", "no-store")
	return rp
}

// decline needs no authentication: holding the token is enough to refuse
// it, even for an invitation limited to another device.
func (e *Emulator) decline(r *http.Request) reply {
	var body api.DeclineBody
	if bad := decodeJSON(r, &body); bad != nil {
		return errorDescription(bad)
	}
	if body.Token == "" {
		return errorDescription(&refusal{http.StatusBadRequest, "invalid_request", "The invitation token is missing."})
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	inv := e.invitations[body.Token]
	if rf := e.checkUsableLocked(inv); rf != nil {
		return errorDescription(rf)
	}
	inv.state = StateDeclined
	return reply{status: http.StatusNoContent}
}

// send creates an invitation as an administrator, puts it in the outbox
// (what would be mailed) and answers it with its token and link.
func (e *Emulator) send(r *http.Request) reply {
	tok, authz := bearerToken(r)
	switch {
	case !authz:
		rp := errorCodeDescription(&refusal{http.StatusUnauthorized, "unauthorized", "Authentication is required."})
		rp.header.Set("WWW-Authenticate", `Bearer realm="enroll-emulator"`)
		return rp
	case subtle.ConstantTimeCompare([]byte(tok), []byte(e.admin)) != 1:
		return errorCodeDescription(&refusal{http.StatusForbidden, "forbidden", "This token may not send invitations."})
	}
	var body api.SendBody
	if bad := decodeJSON(r, &body); bad != nil {
		return errorCodeDescription(bad)
	}
	if len(body.GroupIDs) == 0 {
		return errorCodeDescription(&refusal{http.StatusBadRequest, "missing_groups", "groupIds must name at least one group."})
	}
	var until time.Time
	if body.ValidUntil != "" {
		var err error
		if until, err = time.Parse(time.RFC3339, body.ValidUntil); err != nil {
			return errorCodeDescription(&refusal{http.StatusBadRequest, "invalid_valid_until", "validUntil must be an RFC 3339 time."})
		}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	org := r.PathValue("organizationId")
	if e.orgs[org] == nil {
		return errorCodeDescription(&refusal{http.StatusNotFound, "organization_not_found", "No organization has this id."})
	}
	if !until.IsZero() && !until.After(e.clock()) {
		return errorCodeDescription(&refusal{http.StatusBadRequest, "invalid_valid_until", "validUntil must lie in the future."})
	}
	inv, err := e.createLocked(InvitationSpec{
		Org: org, Groups: body.GroupIDs, Email: body.Email, ValidUntil: until,
		ExistingClientsOnly: body.ExistingClientsOnly, OnlyClientID: body.ClientID,
	})
	if errors.Is(err, ErrUnknownGroup) {
		return errorCodeDescription(&refusal{http.StatusBadRequest, "unknown_group", "A group in groupIds does not exist in this organization."})
	} else if err != nil {
		return errorCodeDescription(&refusal{http.StatusBadRequest, "invalid_request", "The invitation cannot be created."})
	}
	e.outbox = append(e.outbox, inv)
	return jsonReply(http.StatusCreated, invitationBody(e.copyInvitation(inv, e.baseLocked(r))))
}

// validName accepts "" (no name chosen) or printable UTF-8 that is not
// blank and not too long, as a real service would.
func validName(s string) bool {
	if s == "" {
		return true
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxNameRunes || strings.TrimSpace(s) == "" {
		return false
	}
	for _, c := range s {
		if unicode.IsControl(c) || unicode.Is(unicode.Cf, c) {
			return false
		}
	}
	return true
}
