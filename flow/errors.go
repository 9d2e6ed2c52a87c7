package flow

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors: every failure enroll reports is one of these, wrapped
// with context. The api and persist packages wrap them so that errors.Is
// works across layers, and Classify turns them into the one table of
// messages and exit codes.
var (
	ErrUsage             = errors.New("usage")
	ErrMalformed         = errors.New("malformed invitation")
	ErrBadName           = errors.New("device name not valid")
	ErrInvalidInvitation = errors.New("invitation not valid")
	ErrInvitationUsed    = errors.New("invitation already used")
	ErrInvitationExpired = errors.New("invitation expired or revoked")
	ErrNotForDevice      = errors.New("invitation not for this device")
	ErrUnauthorized      = errors.New("credentials refused")
	ErrRateLimited       = errors.New("rate limited")
	ErrServer            = errors.New("server error")
	ErrNetwork           = errors.New("network unavailable")
	ErrCertificate       = errors.New("server certificate not trusted")
	ErrClock             = errors.New("clock wrong")
	ErrEndpointRefused   = errors.New("token endpoint refused")
	ErrOutcomeUnknown    = errors.New("outcome unknown")
	ErrBadResponse       = errors.New("unreadable answer")
	ErrStoreUnavailable  = errors.New("credentials cannot be stored")
	ErrNotStored         = errors.New("credentials received but not stored")
	ErrNotEnrolled       = errors.New("not enrolled")
	ErrUnreadable        = errors.New("credentials cannot be read")
	ErrSealUnavailable   = errors.New("the TPM cannot seal")
	ErrUnsealUnavailable = errors.New("the TPM cannot unseal")
	ErrSealedElsewhere   = errors.New("sealed to another device's TPM")
	ErrSealedChanged     = errors.New("sealed credentials changed after sealing")
	ErrJournalElsewhere  = errors.New("sealed journal cannot be finished here")
	ErrBusy              = errors.New("another enrollment is running")
	ErrPending           = errors.New("an interrupted enrollment is pending")
	ErrInterrupted       = errors.New("interrupted")
)

// Exit codes, documented in the README and --help (DESIGN §4).
const (
	ExitOK          = 0
	ExitUnexpected  = 1
	ExitUsage       = 2
	ExitRefused     = 3
	ExitDevice      = 4
	ExitUnavailable = 5
	ExitStore       = 6
	ExitUnknown     = 7
	ExitInterrupted = 130
)

// Class is what a person or a script needs to know about a failure.
type Class struct {
	Kind    error  // the sentinel, or nil when none matched
	Exit    int    // process exit code
	Summary string // one line: what happened
	Hint    string // one line: what to do next
	Retry   bool   // trying the same step again may work
}

type classRow struct {
	kind  error
	exit  int
	sum   string
	hint  string
	retry bool
}

// classes is the one error-to-message-and-exit-code table. Order matters:
// the first sentinel that errors.Is matches wins.
var classes = []classRow{
	{ErrInterrupted, ExitInterrupted, "Interrupted.", "Nothing was sent after the interruption; run enroll again to continue.", false},
	{ErrUsage, ExitUsage, "The command line is not valid.", "See enroll --help.", false},
	{ErrMalformed, ExitUsage, "That is not an invitation enroll can read.", "Paste the whole link from the invitation mail, or the token alone.", false},
	{ErrBadName, ExitUsage, "That device name cannot be used.", "Use 1 to 64 visible characters.", false},
	{ErrOutcomeUnknown, ExitUnknown, "The request was sent, but it is not known whether it took effect.", "Do not reuse the invitation blindly: run `enroll status`; if this device is not enrolled, ask the administrator whether the invitation was used and for a new one if so.", false},
	{ErrNotStored, ExitUnknown, "The service enrolled this device but the credentials could not be stored.", "Free space or fix permissions, then run enroll again: it completes the enrollment from the journal.", true},
	{ErrBadResponse, ExitUnknown, "The service answered with something enroll cannot read.", "The raw answer is kept in the journal; contact support with it before asking for a new invitation.", false},
	// Before ErrStoreUnavailable: the TPM is part of the store, but the
	// person must hear that it is the TPM, not the disk, that failed.
	{ErrSealUnavailable, ExitStore, "This device's TPM cannot seal the credentials, so the invitation was not used.", "Check the TPM (ENROLL_TPM, default /dev/tpmrm0; root or the tss group may use it), or accept with --seal none to store the secret unsealed.", true},
	{ErrStoreUnavailable, ExitStore, "The credentials file cannot be written, so the invitation was not used.", "Fix the directory (permissions, space, --credentials) and run enroll again.", true},
	{ErrPending, ExitUnknown, "An interrupted enrollment is waiting to be completed.", "Run `enroll accept` first: it completes the enrollment from the journal.", false},
	{ErrBusy, ExitStore, "Another enrollment is running on this device.", "Wait for it to finish and run enroll again.", true},
	{ErrInvalidInvitation, ExitRefused, "The service does not know this invitation.", "Check that the whole link or token was copied, or ask for a new invitation.", false},
	{ErrInvitationUsed, ExitRefused, "This invitation has already been used or declined.", "Ask the administrator for a new invitation.", false},
	{ErrInvitationExpired, ExitRefused, "This invitation has expired or was revoked.", "Ask the administrator for a new invitation.", false},
	{ErrNotForDevice, ExitRefused, "This invitation is not for this device.", "It is limited to already registered devices or to another device client; ask the administrator for one meant for this device.", false},
	{ErrUnauthorized, ExitDevice, "The service refused this device's stored credentials.", "The device must be re-provisioned: run `enroll forget` and accept a new invitation.", false},
	// Before ErrSealedElsewhere, which its errors may wrap too: a journal
	// is not removed by enroll forget, so the person is told how instead.
	{ErrJournalElsewhere, ExitDevice, "An interrupted enrollment's journal is sealed to another device's TPM, or was changed after it was sealed: this device cannot finish that enrollment.", "Move the journal aside with the command above, as root (enroll forget refuses while it is there), then accept an invitation meant for this device.", false},
	{ErrSealedElsewhere, ExitDevice, "The credentials file is sealed to another device's TPM; enroll this device with its own invitation.", "It was copied from another device (or this device's TPM was cleared): run `enroll forget`, then accept an invitation meant for this device.", false},
	{ErrSealedChanged, ExitDevice, "The credentials file was changed after it was sealed, so its secret does not decrypt.", "Restore the file from a backup of this device; otherwise run `enroll forget` and accept a new invitation for this device.", false},
	{ErrUnsealUnavailable, ExitDevice, "This device's credentials are sealed to its TPM, and the TPM cannot be used.", "Run it as root or as a member of the TPM's group (tss) besides the credentials' reader group; check ENROLL_TPM (default /dev/tpmrm0).", false},
	{ErrUnreadable, ExitDevice, "This user cannot read this device's stored credentials.", "Run it as root, or as a member of the credentials' reader group (enroll accept --reader-group GROUP shares them), or give the licensed application the file with systemd's LoadCredential=.", false},
	{ErrNotEnrolled, ExitDevice, "This device is not enrolled.", "Accept an invitation first: enroll accept --token-file FILE.", false},
	{ErrRateLimited, ExitUnavailable, "The service is busy and asked enroll to slow down.", "Nothing changed; try again after the wait the service asks for, or in a minute if it names none.", true},
	{ErrServer, ExitUnavailable, "The service had a problem.", "Nothing changed; it is safe to try again later.", true},
	{ErrEndpointRefused, ExitUnavailable, "The service names a token endpoint that this device's secret must not be sent to, so nothing was sent.", "enroll sends the secret only to the server the device is enrolled with, over https; ask the service's operator about its discovery document, or check --server.", false},
	{ErrClock, ExitUnavailable, "The server's certificate is not valid yet at this device's time: the device's clock is probably behind, so nothing was sent.", "Set the clock (NTP: timedatectl set-ntp true); certificates and access tokens are checked against it. enroll doctor compares it with the server's.", false},
	{ErrCertificate, ExitUnavailable, "The server's certificate is not trusted, so nothing was sent.", "If the service uses a private CA, pass it with --ca-file or SSL_CERT_FILE; otherwise check --server: the connection may be intercepted.", false},
	{ErrNetwork, ExitUnavailable, "The service could not be reached.", "Nothing changed; check the network, proxy and --server, then try again.", true},
}

// ExitCoder is an error that carries its own exit code: a kind this table
// does not know (enroll invite's own, such as refused administrator
// credentials), or an Exit. Classify honours it before the table.
type ExitCoder interface {
	error
	ExitCode() int
}

// Kind is a sentinel error of another role with its exit code, summary and
// hint: enroll invite names its own failures with these instead of
// borrowing the device's.
type Kind struct {
	Name, Summary, Hint string
	Code                int
}

func (k *Kind) Error() string { return k.Name }
func (k *Kind) ExitCode() int { return k.Code }

// Exit ends a command with exactly this code, its messages printed
// already (a bulk run's rows each report their own outcome).
type Exit int

func (e Exit) Error() string { return "exit " + strconv.Itoa(int(e)) }
func (e Exit) ExitCode() int { return int(e) }

// Classify maps any error to its class. Unknown errors are unexpected
// (exit 1) and not retried.
func Classify(err error) Class {
	if err == nil {
		return Class{Exit: ExitOK}
	}
	var k *Kind
	if errors.As(err, &k) && !errors.Is(err, ErrInterrupted) {
		return Class{Kind: k, Exit: k.Code, Summary: k.Summary, Hint: k.Hint}
	}
	var x Exit
	if errors.As(err, &x) {
		return Class{Exit: int(x)}
	}
	for _, r := range classes {
		if errors.Is(err, r.kind) {
			return Class{Kind: r.kind, Exit: r.exit, Summary: r.sum, Hint: r.hint, Retry: r.retry}
		}
	}
	return Class{Exit: ExitUnexpected, Summary: "Something unexpected went wrong.", Hint: "Run again with --verbose and report the message."}
}

// Message is an error's text for a person: without the leading name of its
// kind ("usage: ", "malformed invitation: "), which the summary already
// says in words. It is not sanitized.
func Message(err error) string {
	msg := err.Error()
	if kind := Classify(err).Kind; kind != nil {
		msg = strings.TrimPrefix(msg, kind.Error()+": ")
	}
	return msg
}
