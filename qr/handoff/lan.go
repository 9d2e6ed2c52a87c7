package handoff

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// LANAddress is this device's address on the network of its default route:
// the address a phone on the same Wi-Fi can most likely reach.
//
// It "connects" a UDP socket to a documentation-only address (192.0.2.1,
// TEST-NET-1, RFC 5737; then 2001:db8::1, RFC 3849, for IPv6-only networks)
// and reads the local address the kernel chose for that route. Connecting a
// UDP socket only selects a route: no packet is sent, and nothing needs to
// answer. Tests must not call it; they bind 127.0.0.1:0.
func LANAddress() (net.IP, error) {
	var errs []error
	for _, dst := range []net.IP{net.IPv4(192, 0, 2, 1), net.ParseIP("2001:db8::1")} {
		ip, err := routeSource(dst)
		if err == nil {
			return ip, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("handoff: cannot find this device's LAN address (%w); "+
		"choose the address the phone should use with --handoff-listen IP[:PORT]", errors.Join(errs...))
}

func routeSource(dst net.IP) (net.IP, error) {
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: dst, Port: 9})
	if err != nil {
		return nil, err // typically "network is unreachable": no default route
	}
	defer c.Close()
	ip := c.LocalAddr().(*net.UDPAddr).IP
	// A link-local IPv6 address needs a zone, which cannot go into a URL a
	// phone opens; loopback is not reachable from a phone at all.
	if ip.IsLoopback() || ip.IsUnspecified() || ip.IsLinkLocalUnicast() {
		return nil, fmt.Errorf("default route leaves from %s, which a phone cannot reach", ip)
	}
	return ip, nil
}

// listenAddress turns Options.Listen into an address to bind.
func listenAddress(listen string) (string, error) {
	if listen == "" {
		ip, err := LANAddress()
		if err != nil {
			return "", err
		}
		return net.JoinHostPort(ip.String(), "0"), nil
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil { // a bare IP, v4 or v6, without a port
		host, port = listen, "0"
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return "", fmt.Errorf("handoff: listen address %q: want IP or IP:PORT, for example 192.168.1.20:8080", listen)
	}
	if ip.IsUnspecified() {
		// The address is also what the phone is told to open; "all
		// interfaces" is not an address a phone can reach.
		return "", fmt.Errorf("handoff: listen address %q: name the device's own LAN IP, not %s", listen, host)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("handoff: listen address %q: bad port", listen)
	}
	return net.JoinHostPort(ip.String(), port), nil
}

// authority is host[:port] as a browser writes it in the Host header for
// the URL we advertise: browsers drop the default port 80.
func authority(a *net.TCPAddr) string {
	if a.Port == 80 {
		if a.IP.To4() == nil {
			return "[" + a.IP.String() + "]"
		}
		return a.IP.String()
	}
	return net.JoinHostPort(a.IP.String(), strconv.Itoa(a.Port))
}
