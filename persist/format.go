package persist

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"enroll/flow"
)

// formatVersion is the version of both files. The credentials file is a
// public interface read by licensed applications, so any change to its
// meaning needs a new number rather than a silent reinterpretation.
const formatVersion = 1

// Read limits. A credentials file is a few hundred bytes and a journal a few
// KiB; anything near these limits is not ours, and reading it whole could
// exhaust a small device's memory. A journal must still hold any answer the
// client accepts (api.MaxBody, 1 MiB, the first MiB of a longer one), which
// it keeps base64-encoded: 4/3 of that plus the other fields.
const (
	maxCredentialsSize = 64 << 10
	maxJournalSize     = 2 << 20
)

// credsJSON is the on-disk shape of the credentials file (DESIGN §5). Times
// are strings so that we control their form: RFC 3339, UTC, whole seconds.
type credsJSON struct {
	Version      int    `json:"version,omitempty"`
	Server       string `json:"server"`
	ID           string `json:"id"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret,omitempty"` // absent when sealed
	Name         string `json:"name"`
	EnrolledAt   string `json:"enrolledAt"`
	// Protection holds the sealed secret of a version 2 file.
	Protection *Protection `json:"protection,omitempty"`
}

// journalJSON is the on-disk shape of the pending-answer journal. Raw is a
// pointer so that a missing "raw" key can be told from an empty answer;
// encoding/json writes []byte as base64, which keeps any bytes intact.
type journalJSON struct {
	Version    int        `json:"version"`
	Server     string     `json:"server"`
	Name       string     `json:"name"`
	ReceivedAt string     `json:"receivedAt"`
	Raw        *[]byte    `json:"raw"`
	Existing   *credsJSON `json:"existing"`
	// Invitation is a digest of the invitation token the answer is for,
	// never the token: a later run given the same invitation knows it was
	// already used by this answer.
	Invitation string `json:"invitation,omitempty"`
	// Protection holds Raw and Existing, sealed, in a version 2 journal.
	Protection *Protection `json:"protection,omitempty"`
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// parseTime is lenient: the times are informative, and a hand-edited date
// must not cost a device its working credentials.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func toJSON(c flow.Credentials) credsJSON {
	return credsJSON{
		Server:       c.Server,
		ID:           c.ID,
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Name:         c.Name,
		EnrolledAt:   formatTime(c.EnrolledAt),
	}
}

func (c credsJSON) credentials() flow.Credentials {
	return flow.Credentials{
		Server:       c.Server,
		ID:           c.ID,
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Name:         c.Name,
		EnrolledAt:   parseTime(c.EnrolledAt),
	}
}

// missing names the first required field that is empty, or returns "". It
// names fields, never values, so its result is safe to show and log.
func missing(id, clientID, secret string) string {
	for _, f := range []struct{ name, value string }{
		{"id", id}, {"clientId", clientID}, {"clientSecret", secret},
	} {
		if strings.TrimSpace(f.value) == "" {
			return f.name
		}
	}
	return ""
}

func marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// encodeCredentials renders the file; enrolledAt defaults to now so the
// file always says when it was written. With a sealer (its key ready) the
// secret is sealed into a version 2 file.
//
// What it writes must read back as exactly what it was given: JSON cannot
// carry invalid UTF-8 (the encoder would put U+FFFD in its place, storing
// a secret that differs from the issued one), and Load refuses a file over
// maxCredentialsSize. Such credentials are refused here rather than
// written into a file that enroll would then move aside as corrupt.
func encodeCredentials(c flow.Credentials, now time.Time, sealer Sealer) ([]byte, error) {
	if c.EnrolledAt.IsZero() {
		c.EnrolledAt = now
	}
	j := toJSON(c)
	j.Version = formatVersion
	want := j.credentials()
	if sealer != nil {
		p, err := sealer.Seal([]byte(j.ClientSecret), credentialsAAD(j.Server, j.ID, j.ClientID))
		if err != nil {
			return nil, err
		}
		j.Version, j.ClientSecret, j.Protection = sealedVersion, "", &p
	}
	data, err := marshal(j)
	if err != nil {
		return nil, err
	}
	if len(data) > maxCredentialsSize {
		return nil, fmt.Errorf("the credentials are %d bytes, more than a credentials file may hold (%d)", len(data), maxCredentialsSize)
	}
	back, reason := decodeCredentials(data)
	if reason == "" && back.prot != nil {
		// The key is the one the TPM proved it unseals (Sealer.Ready).
		secret, err := sealer.Open(*back.prot, credentialsAAD(back.Server, back.ID, back.ClientID))
		if err != nil {
			return nil, fmt.Errorf("the sealed secret does not open again: %w", err)
		}
		back.ClientSecret, back.Sealed = string(secret), false
	}
	if reason == "" && back.Credentials != want {
		reason = "a value is not valid UTF-8"
	}
	if reason != "" {
		return nil, fmt.Errorf("the credentials would not read back as they are: %s", reason)
	}
	return data, nil
}

// unmarshal decodes one JSON value and reports a reason fit for a warning.
// Invalid UTF-8 is refused rather than silently replaced with U+FFFD, which
// would hand back a secret that differs from the bytes on disk.
func unmarshal(data []byte, v any) string {
	if !utf8.Valid(data) {
		return "it is not valid UTF-8"
	}
	if err := json.Unmarshal(data, v); err != nil {
		// The decoder's message may quote file contents; ours never does.
		return "it is not valid JSON of the expected shape"
	}
	return ""
}

// storedCreds are the credentials a file holds; a sealed file's secret
// is in prot until the TPM unseals it.
type storedCreds struct {
	flow.Credentials
	prot *Protection
}

// decodeCredentials returns the credentials, or a reason why the bytes are
// not a usable credentials file. Unknown fields are ignored so that a later
// version-1 writer may add some without breaking older readers. A version
// 2 file is checked for shape only: whether its secret unseals is a
// question for the TPM, and its answer never makes the file "corrupt".
func decodeCredentials(data []byte) (*storedCreds, string) {
	var j credsJSON
	if reason := unmarshal(data, &j); reason != "" {
		return nil, reason
	}
	secret := j.ClientSecret
	switch j.Version {
	case formatVersion:
	case sealedVersion:
		if reason := checkProtection(j.Protection); reason != "" {
			return nil, reason
		}
		if j.ClientSecret != "" {
			return nil, "it is sealed but holds the secret in clear too"
		}
		secret = "sealed"
	default:
		return nil, fmt.Sprintf("its version %d is not supported", j.Version)
	}
	if f := missing(j.ID, j.ClientID, secret); f != "" {
		return nil, "it has no " + f
	}
	// Without its server the secret could be sent wherever the next
	// invitation link points.
	if j.Server == "" {
		return nil, "it has no server"
	}
	c := &storedCreds{Credentials: j.credentials()}
	if j.Version == sealedVersion {
		c.prot, c.Sealed = j.Protection, true
	}
	return c, ""
}

// encodeJournal renders the journal; with a sealer (its key ready) the
// answer and the enrolled client are sealed into a version 2 journal.
func encodeJournal(p flow.Pending, now time.Time, sealer Sealer) ([]byte, error) {
	raw := p.Raw
	if raw == nil {
		raw = []byte{} // written as "", so the key is present and decodes back
	}
	at := p.ReceivedAt
	if at.IsZero() {
		at = now
	}
	j := journalJSON{
		Version:    formatVersion,
		Server:     p.Server,
		Name:       p.Name,
		ReceivedAt: formatTime(at),
		Raw:        &raw,
		Invitation: p.InvitationDigest,
	}
	if p.Existing != nil {
		e := toJSON(*p.Existing)
		j.Existing = &e
	}
	if sealer != nil {
		plain, err := json.Marshal(sealedJournal{Raw: *j.Raw, Existing: j.Existing})
		if err != nil {
			return nil, err
		}
		sealed, err := sealer.Seal(plain, journalAAD(p.Server))
		if err != nil {
			return nil, err
		}
		j.Version, j.Raw, j.Existing, j.Protection = sealedVersion, nil, nil, &sealed
	}
	return marshal(j)
}

// storedJournal is a journal as read: a sealed one's answer is in prot
// until the TPM unseals it.
type storedJournal struct {
	flow.Pending
	prot *Protection
}

func decodeJournal(data []byte) (*storedJournal, string) {
	var j journalJSON
	if reason := unmarshal(data, &j); reason != "" {
		return nil, reason
	}
	p := flow.Pending{Server: j.Server, Name: j.Name, ReceivedAt: parseTime(j.ReceivedAt), InvitationDigest: j.Invitation}
	switch j.Version {
	case formatVersion:
	case sealedVersion:
		if reason := checkProtection(j.Protection); reason != "" {
			return nil, reason
		}
		return &storedJournal{Pending: p, prot: j.Protection}, ""
	default:
		return nil, fmt.Sprintf("its version %d is not supported", j.Version)
	}
	if j.Raw == nil {
		return nil, "it holds no answer"
	}
	p.Raw = *j.Raw
	if e := j.Existing; e != nil {
		if f := missing(e.ID, e.ClientID, e.ClientSecret); f != "" {
			return nil, "its existing client has no " + f
		}
		c := e.credentials()
		p.Existing = &c
	}
	return &storedJournal{Pending: p}, ""
}
