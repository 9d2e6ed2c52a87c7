package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"enroll/api"
	"enroll/flow"
	"enroll/persist"
	"enroll/seal"
)

var errHelp = errors.New("help shown")

// common holds the flags every command shares. Each has an ENROLL_…
// environment variable; a flag on the command line wins over it.
type common struct {
	server      string
	credentials string
	caFile      string
	timeout     time.Duration
	json        bool
	plain       bool
	noColor     bool
	verbose     bool
	// readerGroup shares the credentials with a group (--reader-group,
	// for the commands that write them); readOnly opens the store so that
	// nothing on disk changes (status, token, doctor).
	readerGroup string
	readOnly    bool
	// seal is --seal (none, tpm or auto), read only by the commands that
	// offer it (sealOffered); sealer is the TPM of ENROLL_TPM, made once
	// so that auto's probe and the store share the data key it readies.
	seal        string
	sealOffered bool
	sealer      *seal.TPM
}

// readerGroupFlag adds --reader-group to a command that writes the
// credentials.
func (c *common) readerGroupFlag(fs *flag.FlagSet, e env) {
	fs.StringVar(&c.readerGroup, "reader-group", e.getenv("ENROLL_READER_GROUP"),
		"share the credentials file with this `GROUP` (0640, directory 0750), for a licensed application running as its own user; kept by later writes; none stops it (ENROLL_READER_GROUP)")
}

// sealFlag adds --seal to a command that writes the credentials.
func (c *common) sealFlag(fs *flag.FlagSet, e env, envErr *envErrors) {
	c.sealOffered = true
	c.seal = strings.ToLower(strings.TrimSpace(envOr(e, "ENROLL_SEAL", sealNone)))
	if _, ok := sealModes[c.seal]; !ok {
		envErr.errs["seal"] = fmt.Errorf("%w: ENROLL_SEAL=%q is not none, tpm or auto", flow.ErrUsage, flow.Sanitize(c.seal))
	}
	fs.Func("seal", "`none`, tpm or auto: tpm stores the client secret sealed to this device's TPM 2.0 (ENROLL_TPM names it), auto does so when one is usable; a file sealed once stays sealed (ENROLL_SEAL; default none)", func(v string) error {
		v = strings.ToLower(strings.TrimSpace(v))
		if _, ok := sealModes[v]; !ok {
			return fmt.Errorf("%q is not none, tpm or auto", v)
		}
		c.seal = v
		return nil
	})
}

const (
	sealNone = "none"
	sealTPM  = "tpm"
	sealAuto = "auto"
)

var sealModes = map[string]persist.SealMode{sealNone: persist.SealNone, sealTPM: persist.SealTPM, sealAuto: persist.SealNone}

// tpm is the sealer of ENROLL_TPM. A setting it cannot read fails where
// the TPM is first used, as a usage error (exit 2).
func (c *common) tpm(e env) *seal.TPM {
	if c.sealer == nil {
		dev, err := seal.ParseDevice(e.getenv("ENROLL_TPM"))
		if err != nil {
			dev = seal.BadDevice(fmt.Errorf("%w: ENROLL_TPM: %w", flow.ErrUsage, err))
		}
		c.sealer = seal.New(dev)
	}
	return c.sealer
}

// sealMode is what the store's writes do. auto asks the TPM now (it
// readies the data key the store then uses): tpm when it works, else none,
// with a line under --verbose.
func (c *common) sealMode(e env) persist.SealMode {
	if !c.sealOffered || c.readOnly {
		return persist.SealNone
	}
	if c.seal != sealAuto {
		return sealModes[c.seal]
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	if err := c.tpm(e).Ready(ctx); err != nil {
		c.logf(e.stderr, "--seal auto: no usable TPM (%s); the secret is stored unsealed", flow.SanitizeMax(err.Error(), 300))
		return persist.SealNone
	}
	return persist.SealTPM
}

// uses names the common flags a command reads: its help lists those only.
type uses uint

const (
	useServer uses = 1 << iota
	useCredentials
	useCAFile
	useTimeout
	useJSON
	usePlain
	useNoColor
	useVerbose

	// useService is what a command that talks to the service reads.
	useService = useServer | useCredentials | useCAFile | useTimeout | useJSON | useVerbose
	// useScreen is what a command that draws the wizard reads besides.
	useScreen = usePlain | useNoColor
)

// newFlags returns a flag set for one command with the common flags it
// uses registered, their defaults taken from the environment. The others
// still hold the environment's values, and are not offered.
func newFlags(e env, name, synopsis, example string, u uses) (*flag.FlagSet, *common, *envErrors) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	envErr := &envErrors{errs: map[string]error{}, synopsis: synopsis, example: example}
	c := &common{
		server: e.getenv("ENROLL_SERVER"), credentials: e.getenv("ENROLL_CREDENTIALS"), caFile: e.getenv("ENROLL_CA_FILE"),
		timeout: 30 * time.Second, json: envErr.bool(e, "json", "ENROLL_JSON"), plain: envErr.bool(e, "plain", "ENROLL_PLAIN"),
		noColor: envErr.bool(e, "no-color", "ENROLL_NO_COLOR") || e.getenv("NO_COLOR") != "", verbose: envErr.bool(e, "verbose", "ENROLL_VERBOSE"),
	}
	if v := strings.TrimSpace(e.getenv("ENROLL_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			envErr.errs["timeout"] = fmt.Errorf("%w: ENROLL_TIMEOUT=%q is not a positive duration such as 30s", flow.ErrUsage, flow.Sanitize(v))
		} else {
			c.timeout = d
		}
	}
	if u&useServer != 0 {
		fs.StringVar(&c.server, "server", c.server, "service base `URL`, https://… (ENROLL_SERVER)")
	}
	if u&useCredentials != 0 {
		fs.StringVar(&c.credentials, "credentials", c.credentials, "credentials `FILE` (ENROLL_CREDENTIALS; default "+persist.DefaultPath(e.uid, e.getenv)+")")
	}
	if u&useCAFile != 0 {
		fs.StringVar(&c.caFile, "ca-file", c.caFile, "also trust the CA certificates in this PEM `FILE` (ENROLL_CA_FILE)")
	}
	if u&useTimeout != 0 {
		fs.DurationVar(&c.timeout, "timeout", c.timeout, "the most time the command waits for the service, retries and waits included; in the wizard, each step (ENROLL_TIMEOUT)")
	}
	if u&useJSON != 0 {
		fs.BoolVar(&c.json, "json", c.json, "print one JSON object on stdout; messages go to stderr (ENROLL_JSON)")
	}
	if u&usePlain != 0 {
		fs.BoolVar(&c.plain, "plain", c.plain, "line-by-line prompts for screen readers and serial consoles (ENROLL_PLAIN)")
	}
	if u&useNoColor != 0 {
		fs.BoolVar(&c.noColor, "no-color", c.noColor, "no colour (ENROLL_NO_COLOR, NO_COLOR)")
	}
	if u&useVerbose != 0 {
		fs.BoolVar(&c.verbose, "verbose", c.verbose, "log each step and HTTP call to stderr, never secrets (ENROLL_VERBOSE)")
	}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: enroll %s %s\n\n", name, synopsis)
		fmt.Fprintln(w, "Flags:")
		fs.PrintDefaults()
		fmt.Fprintf(w, "\nExample:\n%s\n\n%s\n", example, exitCodesHelp)
	}
	return fs, c, envErr
}

// envErrors are invalid ENROLL_… values by flag name; one only matters when
// its flag is offered and was not given, since the flag wins. They travel
// with the command's synopsis and example, for the generated docs.
type envErrors struct {
	errs              map[string]error
	synopsis, example string
	long              string // more help, where a command has it
}

// bool reads a boolean variable: 1/0, true/false, yes/no, on/off in any
// case, or empty for false. Anything else is recorded as flagName's usage
// error, so that a kiosk set up with ENROLL_KIOSK=ture stops with a clear
// message instead of running without kiosk mode.
func (errs *envErrors) bool(e env, flagName, key string) bool {
	v := strings.TrimSpace(e.getenv(key))
	switch strings.ToLower(v) {
	case "", "0", "f", "false", "no", "off":
		return false
	case "1", "t", "true", "yes", "on":
		return true
	}
	errs.errs[flagName] = fmt.Errorf("%w: %s=%q is not true or false", flow.ErrUsage, key, flow.Sanitize(v))
	return false
}

// parseArgs parses flags that may come before or after positional
// arguments, as people type them: `enroll accept LINK --json`. Help goes to
// stdout; a bad flag is a short usage error that the caller reports (in
// JSON too, under --json).
func parseArgs(e env, fs *flag.FlagSet, envErr *envErrors, args []string) ([]string, error) {
	if e.describe != nil {
		e.describe(fs, envErr)
		return nil, errHelp
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if isHelp(a) {
			fs.SetOutput(e.stdout)
			fs.Usage()
			return nil, errHelp
		}
	}
	fs.SetOutput(io.Discard) // the error is reported once, by the caller
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %w; see enroll %s --help", flow.ErrUsage, err, fs.Name())
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, err := range envErr.errs {
		if !set[name] && fs.Lookup(name) != nil {
			return nil, err
		}
	}
	if f := fs.Lookup("timeout"); f != nil {
		if d, _ := f.Value.(flag.Getter).Get().(time.Duration); d <= 0 {
			return nil, fmt.Errorf("%w: --timeout must be a positive duration such as 30s", flow.ErrUsage)
		}
	}
	return positional, nil
}

func (c *common) serverURL() (string, error) {
	if strings.TrimSpace(c.server) == "" {
		return "", nil
	}
	return api.NormalizeServer(strings.TrimSpace(c.server))
}

// sameServer refuses a --server other than the one the device is enrolled
// with: the stored secret goes to its own server only.
func (c *common) sameServer(creds *flow.Credentials) error {
	server, err := c.serverURL()
	if err != nil || server == "" || server == creds.Server {
		return err
	}
	return fmt.Errorf("%w: this device is enrolled with %s, not %s", flow.ErrUsage, flow.Sanitize(creds.Server), flow.Sanitize(server))
}

func (c *common) store(e env) *persist.Store {
	path := c.credentials
	if path == "" {
		path = persist.DefaultPath(e.uid, e.getenv)
	}
	return persist.Open(persist.Options{Path: path, FS: e.fs, ReaderGroup: c.readerGroup, ReadOnly: c.readOnly,
		Sealer: c.tpm(e), Seal: c.sealMode(e)})
}

// driver is what every enrolling command runs the flow on: the service
// client and the credentials store that the common flags describe.
func (c *common) driver(e env) (flow.Driver, error) {
	svc, err := c.client(e)
	if err != nil {
		return flow.Driver{}, err
	}
	return flow.Driver{Service: svc, Store: c.store(e), Now: time.Now}, nil
}

func (c *common) client(e env) (*api.Client, error) {
	hc, err := api.NewHTTPClient(api.HTTPOptions{Timeout: c.timeout, CAFile: c.caFile})
	if err != nil {
		return nil, err
	}
	opts := api.Options{HTTP: hc, Timeout: c.timeout}
	if c.verbose {
		opts.Logf = func(format string, args ...any) {
			fmt.Fprintf(e.stderr, "enroll: "+format+"\n", args...)
		}
	}
	return api.New(opts), nil
}

// bounded is the context of a scripted command that talks to the service:
// --timeout is its one deadline, so every wait (connect, TLS, answers,
// retries and the waits a service asks for, another enrollment's lock)
// ends by it. A secret already received is still stored after it (see
// flow.Driver.Execute), and Ctrl-C still ends any wait before that.
func (c *common) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// logf prints a progress line on stderr when --verbose is set.
func (c *common) logf(w io.Writer, format string, args ...any) {
	if c.verbose {
		fmt.Fprintf(w, "enroll: "+format+"\n", args...)
	}
}
