package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"enroll/api"
	"enroll/flow"
)

// expirySoon is when a certificate about to expire is worth a warning.
const expirySoon = 14 * 24 * time.Hour

// skewWarn and skewFail bound the clock's difference from the server's:
// tokens and certificates tolerate a minute; beyond five, things break.
const (
	skewWarn = time.Minute
	skewFail = 5 * time.Minute
)

func (r *run) network(ctx context.Context) {
	if r.o.Server == "" {
		for _, n := range []string{"proxy", "dns", "tcp", "tls", "clock", "discovery"} {
			r.add(skipped(n, "no server is configured (--server, ENROLL_SERVER) and this device is not enrolled"))
		}
		return
	}
	u, err := url.Parse(r.o.Server)
	if err != nil {
		r.add(failed("proxy", fmt.Errorf("%w: the server %q is not a URL", flow.ErrUsage, r.o.Server), ""))
		return
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	target := net.JoinHostPort(u.Hostname(), port)
	proxied := r.proxy(u)
	resolved := r.dns(ctx, u.Hostname(), proxied != nil)
	switch {
	case proxied != nil:
		r.tcp(ctx, proxied.Host, "the proxy "+proxied.Host)
	case resolved:
		r.tcp(ctx, target, target)
	default:
		r.add(skipped("tcp", "the server's name does not resolve"))
	}
	r.tlsAndClock(ctx, u)
	r.discovery(ctx)
}

// proxy reports the proxy that requests to the server go through, if any.
// A proxy variable Go's client cannot use is a failure: it would be ignored
// or fail every request, whatever the variable says.
func (r *run) proxy(server *url.URL) *url.URL {
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"} {
		v := r.o.ProxyVars[k]
		if v == "" {
			continue
		}
		if !strings.Contains(v, "://") {
			v = "http://" + v // as Go's client reads it
		}
		if u, err := url.Parse(v); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5") {
			r.add(Check{Name: "proxy", Status: Fail, Detail: k + " is not a proxy address Go's HTTP client can use: " + flow.SanitizeMax(r.o.ProxyVars[k], 100),
				Hint: "Write it as http://HOST:PORT.", Kind: flow.ErrNetwork})
			return nil
		}
	}
	req := &http.Request{Method: http.MethodGet, URL: server, Header: http.Header{}}
	p, err := r.o.Proxy(req)
	switch {
	case err != nil:
		r.add(failed("proxy", fmt.Errorf("%w: the proxy setting cannot be used: %v", flow.ErrNetwork, err), ""))
		return nil
	case p == nil:
		r.add(Check{Name: "proxy", Status: OK, Detail: "none: requests to " + server.Host + " go direct (no proxy variable applies, or NO_PROXY exempts it)"})
		return nil
	}
	shown := p.Scheme + "://" + p.Host // never a proxy's user name or password
	r.add(Check{Name: "proxy", Status: OK, Detail: "requests to " + server.Host + " go through " + flow.Sanitize(shown) + " (HTTPS_PROXY, HTTP_PROXY)"})
	return p
}

// dns looks the server's name up. Through a proxy, the proxy resolves it:
// a name this device cannot resolve is then only worth a warning.
func (r *run) dns(ctx context.Context, host string, proxied bool) bool {
	if net.ParseIP(host) != nil {
		r.add(Check{Name: "dns", Status: OK, Detail: host + " is an address: nothing to look up"})
		return true
	}
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	switch {
	case err == nil:
		if len(addrs) > 3 {
			addrs = append(addrs[:3], "…")
		}
		r.add(Check{Name: "dns", Status: OK, Detail: flow.Sanitize(host) + " → " + strings.Join(addrs, ", ")})
		return true
	case proxied:
		r.add(Check{Name: "dns", Status: Warn, Detail: flow.Sanitize(host) + " does not resolve on this device; the proxy resolves it"})
		return false
	}
	r.add(Check{Name: "dns", Status: Fail, Detail: flow.Sanitize(host) + " does not resolve: " + flow.SanitizeMax(err.Error(), 200),
		Hint: "Check the name in --server, and this device's DNS (/etc/resolv.conf).", Kind: flow.ErrNetwork})
	return false
}

func (r *run) tcp(ctx context.Context, addr, what string) {
	d := net.Dialer{Timeout: r.o.Timeout}
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		r.add(Check{Name: "tcp", Status: Fail, Detail: "cannot connect to " + flow.Sanitize(what) + ": " + flow.SanitizeMax(err.Error(), 200),
			Hint: "Check the network, the firewall and the port in --server.", Kind: flow.ErrNetwork})
		return
	}
	c.Close()
	took := fmt.Sprintf("%d ms", time.Since(start).Milliseconds())
	if took == "0 ms" {
		took = "under 1 ms"
	}
	r.add(Check{Name: "tcp", Status: OK, Detail: fmt.Sprintf("connected to %s in %s", flow.Sanitize(what), took)})
}

// tlsAndClock fetches the public discovery document the way enroll does,
// for the certificate it is served with and the server's Date header.
func (r *run) tlsAndClock(ctx context.Context, server *url.URL) {
	resp, err := r.get(ctx, r.o.HTTP, server)
	if err == nil {
		r.serverDate, _ = http.ParseTime(resp.Header.Get("Date"))
		r.reachable = true
	}
	r.getErr = err
	switch {
	case server.Scheme != "https":
		r.add(skipped("tls", "plain http, which enroll allows on loopback only"))
	case err == nil:
		r.add(certificateOK(resp.TLS, r.o.Now()))
	default:
		r.add(r.certificateRefused(err))
		if r.tlsClock || errors.Is(err, flow.ErrCertificate) || errors.Is(err, flow.ErrClock) {
			// Only to read the server's clock: the public document,
			// nothing sent, nothing believed but the Date header.
			if resp, err := r.get(ctx, r.o.Insecure, server); err == nil {
				r.serverDate, _ = http.ParseTime(resp.Header.Get("Date"))
			}
		}
	}
	r.clock()
}

func (r *run) get(ctx context.Context, hc *http.Client, server *url.URL) (*http.Response, error) {
	if hc == nil {
		return nil, errors.New("no client")
	}
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(server.String(), "/")+api.PathDiscovery, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, api.TransportError("discovery", err)
	}
	resp.Body.Close()
	return resp, nil
}

func certificateOK(st *tls.ConnectionState, now time.Time) Check {
	if st == nil || len(st.PeerCertificates) == 0 {
		return Check{Name: "tls", Status: Warn, Detail: "no certificate was seen"}
	}
	leaf := st.PeerCertificates[0]
	left := leaf.NotAfter.Sub(now)
	detail := fmt.Sprintf("verified: %s, issued by %s, valid until %s (%d days)", subject(leaf), issuerName(leaf),
		leaf.NotAfter.UTC().Format(time.DateOnly), int(left.Hours()/24))
	if left < expirySoon {
		return Check{Name: "tls", Status: Warn, Detail: detail, Hint: "The server's certificate expires soon: tell the service's operator."}
	}
	return Check{Name: "tls", Status: OK, Detail: detail}
}

func issuerName(c *x509.Certificate) string {
	if n := c.Issuer.CommonName; n != "" {
		return flow.SanitizeMax(n, 100)
	}
	if len(c.Issuer.Organization) > 0 {
		return flow.SanitizeMax(c.Issuer.Organization[0], 100)
	}
	return flow.SanitizeMax(c.Issuer.String(), 100)
}

func subject(c *x509.Certificate) string {
	if len(c.DNSNames) > 0 {
		return flow.SanitizeMax(strings.Join(c.DNSNames, ", "), 200)
	}
	return flow.SanitizeMax(c.Subject.CommonName, 100)
}

// certificateRefused explains a failed handshake or request.
func (r *run) certificateRefused(err error) Check {
	if errors.Is(err, flow.ErrClock) {
		r.tlsClock = true
	}
	var cie x509.CertificateInvalidError
	if errors.As(err, &cie) && cie.Reason == x509.Expired {
		r.tlsClock = true
	}
	return failed("tls", err, "")
}

// clock compares this device's clock with the server's.
func (r *run) clock() {
	if r.serverDate.IsZero() {
		r.add(skipped("clock", "the server's time is not known (no answer, or no Date header)"))
		return
	}
	now := r.o.Now()
	skew := now.Sub(r.serverDate)
	abs := max(skew, -skew)
	way := "ahead of"
	if skew < 0 {
		way = "behind"
	}
	detail := fmt.Sprintf("this device reads %s, the server %s: %s %s it", now.UTC().Format(time.RFC3339), r.serverDate.UTC().Format(time.RFC3339),
		api.WaitWords(abs.Round(time.Second)), way)
	hint := "Set the clock (NTP: timedatectl set-ntp true): certificates and access tokens are checked against it."
	switch {
	case abs < skewWarn:
		r.add(Check{Name: "clock", Status: OK, Detail: fmt.Sprintf("within %s of the server's", api.WaitWords(max(abs.Round(time.Second), time.Second)))})
		if r.tlsClock {
			r.certificateOutOfPeriod()
		}
	case abs < skewFail:
		r.add(Check{Name: "clock", Status: Warn, Detail: detail, Hint: hint})
	default:
		r.add(Check{Name: "clock", Status: Fail, Detail: "this device's clock is wrong: " + detail, Hint: hint, Kind: flow.ErrClock})
	}
}

func (r *run) discovery(ctx context.Context) {
	if !r.reachable {
		if r.getErr != nil && !r.anyFailed() {
			// Nothing before said why (a server that hangs or answers
			// garbage): this check must, or doctor would exit 0.
			r.add(failed("discovery", r.getErr, ""))
			return
		}
		r.add(skipped("discovery", "the service could not be reached"))
		return
	}
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	ep, err := r.o.Service.DiscoverTokenURL(ctx, r.o.Server)
	if err != nil {
		r.add(failed("discovery", err, ""))
		r.reachable = false
		return
	}
	r.add(Check{Name: "discovery", Status: OK, Detail: "token endpoint " + flow.SanitizeMax(ep, 200)})
}

func (r *run) anyFailed() bool {
	for _, c := range r.checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// certificateOutOfPeriod corrects the TLS check when the clock is right:
// then the certificate itself is outside its validity period.
func (r *run) certificateOutOfPeriod() {
	for i := range r.checks {
		if c := &r.checks[i]; c.Name == "tls" && c.Status == Fail {
			c.Detail += "; this device's clock agrees with the server's, so the certificate itself is outside its validity period"
			c.Hint = "Tell the service's operator: its certificate is not valid now."
			c.Kind = flow.ErrCertificate
		}
	}
}
