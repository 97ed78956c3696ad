package mail

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"desk/store"
)

// selfSigned makes a certificate for 127.0.0.1 and writes it as a CA file.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "desk test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, ca
}

// tlsSink is an implicit-TLS SMTP server that requires AUTH PLAIN with
// one password and records what it accepts.
type tlsSink struct {
	password string
	mu       sync.Mutex
	got      [][]byte
}

type tlsSession struct {
	sink   *tlsSink
	authed bool
}

func (s *tlsSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *tlsSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, _, pass string) error {
		if pass != s.sink.password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.authed = true
		return nil
	}), nil
}
func (s *tlsSession) Mail(string, *smtp.MailOptions) error {
	if !s.authed {
		return smtp.ErrAuthRequired
	}
	return nil
}
func (s *tlsSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *tlsSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.sink.mu.Lock()
	s.sink.got = append(s.sink.got, b)
	s.sink.mu.Unlock()
	return err
}
func (s *tlsSession) Reset()        {}
func (s *tlsSession) Logout() error { return nil }

// TestSendTLSVerifyAndCredentials: an untrusted certificate is refused
// (and retried, not sent); with ca_file it is trusted; a wrong password
// fails the reply with the server's answer; the password appears in no
// error and no log line.
func TestSendTLSVerifyAndCredentials(t *testing.T) {
	cert, caFile := selfSigned(t)
	sink := &tlsSink{password: "correct horse"}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &tlsSession{sink: sink}, nil }))
	srv.Domain = "localhost"
	srv.ErrorLog = slog.NewLogLogger(slog.DiscardHandler, slog.LevelError)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	var logs bytes.Buffer
	for _, c := range []struct {
		name, ca, password, state, wantErr string
	}{
		{"untrusted certificate", "", "correct horse", store.OutboxQueued, "certificate"},
		{"wrong password", caFile, "wrong staple", store.OutboxFailed, "bad credentials"},
		{"trusted with ca_file", caFile, "correct horse", store.OutboxSent, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newFaultDesk(t, "smtps://"+ln.Addr().String(), "", SendOptions{Timeout: 5 * time.Second})
			d.w.acct.CAFile, d.w.acct.Password = c.ca, c.password
			d.w.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			m, err := d.st.QueueReply(t.Context(), d.tkID, store.KindReply, "Ana", "over TLS")
			if err != nil {
				t.Fatal(err)
			}
			d.flush(t)
			state, lastErr := d.outbox(t, m.MessageID)
			if state != c.state || !strings.Contains(lastErr, c.wantErr) {
				t.Fatalf("state %q error %q, want %q with %q", state, lastErr, c.state, c.wantErr)
			}
			if strings.Contains(lastErr, c.password) {
				t.Fatalf("error shows the password: %q", lastErr)
			}
		})
	}
	if strings.Contains(logs.String(), "correct horse") || strings.Contains(logs.String(), "wrong staple") || !strings.Contains(logs.String(), "send failed") {
		t.Fatalf("log shows a password, or nothing was logged:\n%s", logs.String())
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.got) != 1 {
		t.Fatalf("server accepted %d messages, want 1", len(sink.got))
	}
}
