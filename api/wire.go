package api

// This file holds every ASSUMPTION enroll makes about the 10Duke Enterprise
// wire format that 10Duke's public documentation does not settle (DESIGN
// §2). Adapting enroll to the real service should be a change to this file
// only. The client (api) and the emulator (api/emulator) both use these
// shapes, and testdata/wire/ holds example bytes for each.

import "encoding/json"

// Paths. Known: the API root, the token endpoint, the discovery document and
// the three invitation paths. They are relative to the server's base URL.
const (
	PathAPIRoot       = "/api/idp/v1"
	PathAccept        = PathAPIRoot + "/client-group-invitations/accept"
	PathDecline       = PathAPIRoot + "/client-group-invitations/decline"
	PathSendTemplate  = PathAPIRoot + "/organizations/{organizationId}/client-group-invitations/send"
	PathToken         = "/user/oauth20/token"
	PathDiscovery     = "/user/.well-known/openid-configuration"
	MethodAccept      = "PUT"
	MethodDecline     = "PUT"
	MethodSend        = "POST"
	ContentTypeJSON   = "application/json"
	ContentTypeForm   = "application/x-www-form-urlencoded"
	MaxRetryAfterSecs = 60 // ASSUMPTION: we honour Retry-After up to this bound
)

// AcceptBody is the accept request. ASSUMPTION: JSON, with "name" only when
// the person chose one.
type AcceptBody struct {
	Token string `json:"token"`
	Name  string `json:"name,omitempty"`
}

// DeclineBody is the decline request. ASSUMPTION: JSON with the token only.
type DeclineBody struct {
	Token string `json:"token"`
}

// ClientBody is the device client in the accept answer. Known: a new device
// gets id, clientId and clientSecret. ASSUMPTION: the rest of the shape, the
// secret being absent for an existing device, and snake_case aliases seen in
// other 10Duke APIs. Unknown fields are ignored.
type ClientBody struct {
	ID           string   `json:"id"`
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret,omitempty"`
	Name         string   `json:"name,omitempty"`
	Groups       []string `json:"groupIds,omitempty"`
}

// Limits of an accept answer's fields (checkAnswer). ASSUMPTION: ids are
// short identifiers (UUIDs in practice), and clientId and clientSecret are
// RFC 6749 VSCHAR strings (printable ASCII, Appendix A.1 and A.2). A field
// outside them cannot be stored as issued and read back, or sent as a
// client credential, so such an answer is set aside instead of stored.
const (
	MaxAnswerID     = 256  // bytes of id, and of clientId
	MaxAnswerSecret = 4096 // bytes of clientSecret
	MaxAnswerName   = 1024 // bytes of name (any valid UTF-8)
)

// UnmarshalJSON accepts client_id and client_secret as aliases.
func (c *ClientBody) UnmarshalJSON(b []byte) error {
	type plain ClientBody
	var v struct {
		plain
		ClientIDAlias     string `json:"client_id"`
		ClientSecretAlias string `json:"client_secret"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = ClientBody(v.plain)
	if c.ClientID == "" {
		c.ClientID = v.ClientIDAlias
	}
	if c.ClientSecret == "" {
		c.ClientSecret = v.ClientSecretAlias
	}
	return nil
}

// SendBody is the request that creates and mails an invitation.
// ASSUMPTION: field names and the RFC 3339 validUntil.
type SendBody struct {
	Email               string   `json:"email,omitempty"`
	Language            string   `json:"language,omitempty"`
	GroupIDs            []string `json:"groupIds"`
	ValidUntil          string   `json:"validUntil,omitempty"`
	ExistingClientsOnly bool     `json:"existingClientsOnly,omitempty"`
	ClientID            string   `json:"clientId,omitempty"`
}

// InvitationBody is the created invitation in the send answer. ASSUMPTION:
// the shape; "token" and "link" are returned so an administrator can hand
// the invitation over without mail.
type InvitationBody struct {
	ID                  string   `json:"id"`
	OrganizationID      string   `json:"organizationId"`
	Email               string   `json:"email,omitempty"`
	GroupIDs            []string `json:"groupIds"`
	ValidUntil          string   `json:"validUntil,omitempty"`
	ExistingClientsOnly bool     `json:"existingClientsOnly,omitempty"`
	ClientID            string   `json:"clientId,omitempty"`
	Token               string   `json:"token,omitempty"`
	Link                string   `json:"link,omitempty"`
}

// ErrorBody reads every error shape seen across 10Duke APIs (ASSUMPTION:
// which of them the invitation endpoints use):
//
//	{"error","error_description"}   RFC 6749
//	{"code","message"}
//	{"error","errorDescription"}
//	{"error","code","description"}
//
// "error" may also be an object holding any of the above.
type ErrorBody struct {
	Error            string
	ErrorDescription string
	Code             string
	Message          string
}

// Discovery is the part of the OpenID discovery document enroll reads.
type Discovery struct {
	TokenEndpoint string `json:"token_endpoint"`
}

// Status meanings. ASSUMPTION: the service answers the accept and decline
// calls with these statuses (see statusKinds in errors.go for the mapping):
// 400/404 invalid token, 409 already used, 410 expired or revoked, 401/403
// authentication, 422 not allowed for this device, 429 rate limited, 5xx
// server trouble, except that a 502 or 504 to accept may come from a gateway
// after it forwarded the request (outcome unknown). The service itself
// never redirects these calls; a 3xx is a login page or portal in the way.
