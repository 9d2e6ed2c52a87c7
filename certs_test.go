package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// certSpec is a test certificate: for hosts (names or IP addresses),
// valid from..until (the zero values: an hour either side of now), a CA
// itself when ca is set, issued by parent (nil: self-signed).
type certSpec struct {
	hosts       []string
	from, until time.Time
	ca          bool
	parent      *issued
}

// issued is a certificate with its key, as a server or a CA uses it.
type issued struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	tls  tls.Certificate
	der  []byte
}

var certSerial atomic.Int64 // tests issue certificates in parallel

func issue(t *testing.T, s certSpec) *issued {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if s.from.IsZero() {
		s.from = time.Now().Add(-time.Hour)
	}
	if s.until.IsZero() {
		s.until = time.Now().Add(time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(certSerial.Add(1)), Subject: pkix.Name{CommonName: "enroll test"},
		NotBefore: s.from, NotAfter: s.until, IsCA: s.ca, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if s.ca {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	for _, h := range s.hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	if len(s.hosts) > 0 {
		tmpl.Subject.CommonName = s.hosts[0]
	}
	parent, signer := tmpl, key
	if s.parent != nil {
		parent, signer = s.parent.cert, s.parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &issued{cert: cert, key: key, tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, der: der}
}

// closedAddr is a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// futureCert is a self-signed certificate for 127.0.0.1 valid from
// tomorrow: not valid yet, with this device's clock right.
func futureCert(t *testing.T) *issued {
	return issue(t, certSpec{hosts: []string{"127.0.0.1"}, ca: true, from: time.Now().Add(24 * time.Hour), until: time.Now().Add(48 * time.Hour)})
}
