package catalogserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
)

// startServer serves s on a free local port and returns its URL and a function that
// stops it and returns what Start returned.
func startServer(t *testing.T, s *Server) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.serve(ctx, ln) }()
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("the server did not stop")
			return nil
		}
	}
	t.Cleanup(func() { cancel() })
	return ln.Addr().String(), stop
}

func TestServerServesAndStops(t *testing.T) {
	s := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }), Log: logr.Discard()}
	if s.NeedLeaderElection() {
		t.Error("NeedLeaderElection() = true: every replica should serve")
	}
	addr, stop := startServer(t, s)
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "ok" {
		t.Errorf("body = %q", body)
	}
	if err := stop(); err != nil {
		t.Errorf("Start returned %v after its context ended, want nil", err)
	}
	if resp, err := http.Get("http://" + addr + "/"); err == nil {
		_ = resp.Body.Close()
		t.Error("still serving after stop")
	}
}

func TestServerFinishesRequestsInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	s := &Server{Log: logr.Discard(), Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "finished")
	})}
	addr, stop := startServer(t, s)
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		got <- string(b)
	}()
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(50 * time.Millisecond) // shutdown has begun and waits for the request
	close(release)
	if body := <-got; body != "finished" {
		t.Errorf("the request in flight got %q, want it finished", body)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Start = %v", err)
	}
}

func TestServerStartFailsOnATakenPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	s := &Server{Addr: ln.Addr().String(), Handler: http.NotFoundHandler(), Log: logr.Discard()}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Start(ctx); err == nil || !strings.Contains(err.Error(), "listening on") {
		t.Errorf("Start on a taken port = %v, want an error", err)
	}
}

func TestServerTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	s := &Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.Proto) }),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
		Log:       logr.Discard(),
	}
	addr, stop := startServer(t, s)
	defer func() { _ = stop() }()
	c := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
	}}
	resp, err := c.Get("https://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "HTTP/1.1" {
		t.Errorf("served over %q, want HTTP/1.1 only", body)
	}
	if resp, err := http.Get("http://" + addr + "/"); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered on the TLS port")
		}
		_ = resp.Body.Close()
	}
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	cert, _, _ := newCertificate(t, 1)
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	return cert, pool
}

// newCertificate makes a self-signed certificate for 127.0.0.1 with the given serial
// number, and its certificate and key in PEM, as a kubernetes.io/tls Secret holds them.
func newCertificate(t *testing.T, serial int64) (tls.Certificate, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "entityhub test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, certPEM, keyPEM
}

// writeCertificate writes a new certificate of the given serial number into dir, under
// the default names, and returns it.
func writeCertificate(t *testing.T, dir string, serial int64) *x509.Certificate {
	t.Helper()
	cert, certPEM, keyPEM := newCertificate(t, serial)
	if err := os.WriteFile(filepath.Join(dir, DefaultKeyName), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, DefaultCertName), certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return cert.Leaf
}

// TestServerCertDir: with CertDir the server speaks HTTPS with the certificate there,
// and serves a rotated one without a restart.
func TestServerCertDir(t *testing.T) {
	dir := t.TempDir()
	pool := x509.NewCertPool()
	pool.AddCert(writeCertificate(t, dir, 1))
	s := &Server{CertDir: dir, Log: logr.Discard(),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })}
	addr, stop := startServer(t, s)
	defer func() { _ = stop() }()

	serial := func() int64 {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			DisableKeepAlives: true, // a new handshake each time
		}}
		resp, err := c.Get("https://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64()
	}
	if got := serial(); got != 1 {
		t.Fatalf("served certificate %d, want 1", got)
	}
	if resp, err := http.Get("http://" + addr + "/"); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered on the TLS port")
		}
		_ = resp.Body.Close()
	}

	pool.AddCert(writeCertificate(t, dir, 2))
	deadline := time.Now().Add(15 * time.Second) // fsnotify at once, else certwatcher's 10 s poll
	for serial() != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the rotated certificate is not served")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestServerCertDirWithoutCertificate(t *testing.T) {
	s := &Server{CertDir: t.TempDir(), Handler: http.NotFoundHandler(), Log: logr.Discard()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.serve(ctx, ln); err == nil || !strings.Contains(err.Error(), "reading its certificate") {
		t.Errorf("serve without a certificate = %v, want an error saying so", err)
	}
}
