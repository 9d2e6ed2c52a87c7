package flow

import (
	"crypto/sha256"
	"encoding/hex"
)

// Source says where in the input the invitation token was found.
type Source string

const (
	SourceToken    Source = "token"    // the input was the bare token
	SourceQuery    Source = "query"    // a query parameter of a link
	SourceFragment Source = "fragment" // a parameter in a link's #fragment
	SourcePath     Source = "path"     // the last segment of an /invitations/<token> path
	SourceScheme   Source = "scheme"   // a custom-scheme link, <scheme>://accept?token=…
)

// Invitation is an invitation token as read from what a person or a script
// handed over.
type Invitation struct {
	Token  string
	Source Source
	// Origin is "scheme://host[:port]" of an http(s) link the token came
	// in, or "" for a bare token or a custom-scheme link.
	Origin string
	// Host is the link's host as shown to a person, or "".
	Host string
}

// ParseInvitation is implemented in parse.go.

// MaxInvitationBytes is the most input ParseInvitation reads; callers that
// read from files or pipes stop one byte after it.
const MaxInvitationBytes = maxInvitationInput

// InvitationDigest is a one-way digest of an invitation token, stored in the
// journal so a later run recognises the invitation an answer was for
// without keeping the token itself.
func InvitationDigest(token string) string {
	sum := sha256.Sum256([]byte("enroll invitation\x00" + token))
	return hex.EncodeToString(sum[:16])
}
