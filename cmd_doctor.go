package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"enroll/api"
	"enroll/config"
	"enroll/doctor"
	"enroll/seal"
)

const doctorExample = `  enroll doctor
  enroll doctor --json --server https://idp.example.com`

// cmdDoctor is field diagnosis: it checks, in order, what enrolling and the
// licensed application depend on, and says what to do about what fails. It
// never sends an invitation, never prints a secret, changes nothing.
func cmdDoctor(ctx context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "doctor", "[flags]", doctorExample, useService)
	if _, err := parseArgs(e, fs, envErr, args); err != nil {
		return fail(e, c, err)
	}
	c.readOnly = true
	ctx, cancel := c.bounded(ctx) // one deadline for the whole diagnosis, as for every command
	defer cancel()
	server, err := c.serverURL()
	if err != nil {
		return fail(e, c, err)
	}
	hc, err := api.NewHTTPClient(api.HTTPOptions{Timeout: c.timeout, CAFile: c.caFile})
	if err != nil {
		return fail(e, c, err)
	}
	svc, err := c.client(e)
	if err != nil {
		return fail(e, c, err)
	}
	st := c.store(e)
	checks := doctor.Run(ctx, doctor.Options{
		Settings: settingsInEffect(e, fs, c, st.Path()),
		Problems: e.defaults.Problems,
		Server:   server,
		Proxy:    http.ProxyFromEnvironment,
		HTTP:     hc,
		Insecure: doctor.InsecureClient(c.timeout, http.ProxyFromEnvironment),
		Service:  svc,
		Store:    st,
		Timeout:  c.timeout,
		Now:      time.Now,

		ProxyVars:   proxyVars(e),
		ReaderGroup: e.getenv("ENROLL_READER_GROUP"),
		DefaultsErr: e.defaultsErr,
		Seal:        e.getenv("ENROLL_SEAL"),
		TPM:         tpmSetting(e),
		Sealer:      c.tpm(e),
	})
	if c.json {
		ok := doctor.Exit(checks) == 0
		writeJSON(e.stdout, struct {
			OK     bool           `json:"ok"`
			Checks []doctor.Check `json:"checks"`
		}{ok, checks})
	} else {
		printChecks(e.stdout, checks)
	}
	return exitWith(doctor.Exit(checks))
}

func printChecks(w io.Writer, checks []doctor.Check) {
	var b strings.Builder
	for _, c := range checks {
		fmt.Fprintf(&b, "%-5s %-12s %s\n", c.Status, c.Name, c.Detail)
		if c.Hint != "" && c.Status != doctor.OK {
			fmt.Fprintf(&b, "%-5s %-12s → %s\n", "", "", c.Hint)
		}
	}
	_, _ = io.WriteString(w, b.String())
}

// proxyVars are the proxy variables in effect.
func proxyVars(e env) map[string]string {
	m := map[string]string{}
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"} {
		if v := e.getenv(k); v != "" {
			m[k] = v
		}
	}
	return m
}

// settingsInEffect are the settings doctor reports, each with where its
// value came from: a flag, the environment, the defaults file, or the
// default.
func settingsInEffect(e env, fs *flag.FlagSet, c *common, credentials string) []doctor.Setting {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	source := func(flagName, key string) string {
		switch {
		case set[flagName]:
			return string(config.FromFlag)
		case e.fromFile[key]:
			return e.defaults.Path
		case key != "" && e.getenv(key) != "":
			return string(config.FromEnvironment)
		}
		return string(config.FromDefault)
	}
	defaults, from := e.defaults.Path, string(config.FromDefault)
	if defaults == "" {
		defaults = config.Path(e.getenv)
	}
	if e.getenv("ENROLL_DEFAULTS") != "" {
		from = string(config.FromEnvironment)
	}
	if !e.defaults.Found {
		defaults += ", which does not exist"
	}
	out := []doctor.Setting{
		{Name: "server", Value: c.server, Source: source("server", "ENROLL_SERVER")},
		{Name: "credentials", Value: credentials, Source: source("credentials", "ENROLL_CREDENTIALS")},
		{Name: "ca-file", Value: c.caFile, Source: source("ca-file", "ENROLL_CA_FILE")},
		{Name: "timeout", Value: c.timeout.String(), Source: source("timeout", "ENROLL_TIMEOUT")},
		{Name: "reader-group", Value: e.getenv("ENROLL_READER_GROUP"), Source: source("", "ENROLL_READER_GROUP")},
		{Name: "seal", Value: cmp.Or(strings.TrimSpace(e.getenv("ENROLL_SEAL")), sealNone), Source: source("", "ENROLL_SEAL")},
		{Name: "tpm", Value: tpmSetting(e), Source: source("", "ENROLL_TPM")},
		{Name: "defaults file", Value: defaults, Source: from},
	}
	// The network's settings from the environment or the file, which choose
	// the proxy and the CAs trusted: shown without a proxy's password.
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if v := e.getenv(k); v != "" {
			if u, err := url.Parse(v); err == nil && u.User != nil {
				u.User = nil
				v = u.String()
			}
			out = append(out, doctor.Setting{Name: k, Value: v, Source: source("", k)})
		}
	}
	return out
}

// tpmSetting is the TPM that ENROLL_TPM names, as set, or the default.
func tpmSetting(e env) string {
	return cmp.Or(strings.TrimSpace(e.getenv("ENROLL_TPM")), seal.DefaultDevice)
}
