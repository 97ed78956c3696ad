// Package postfixtest starts a private, throwaway Postfix for Go tests: a
// real MTA on a loopback port that accepts mail for the users of
// dovecottest and delivers it by LMTP into a dovecottest server, so that a
// test sees the whole path a customer's mail takes.
//
// Each Server has its own config, queue and data directories and log in a
// temp dir; the system's /etc/postfix is only read for the package's own
// meta files. Postfix must run as root (it drops privileges itself).
package postfixtest

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"
)

// Bounds on starting a server.
const (
	startAttempts = 5
	readyTimeout  = 30 * time.Second
)

// Server is a running private Postfix.
type Server struct {
	Addr string // "127.0.0.1:PORT": SMTP, no AUTH; relays nothing, delivers the listed users
	Dir  string // its work dir

	confDir string
	logFile string
}

// Start runs Postfix delivering the addresses in users (any +detail) by
// LMTP to lmtpAddr, and stops it at cleanup. Without the postfix binary or
// root it skips the test, or fails it when CI is "true".
func Start(t testing.TB, lmtpAddr string, users []string) *Server {
	t.Helper()
	bin, err := exec.LookPath("postfix")
	if err == nil && os.Geteuid() != 0 {
		err = errors.New("postfix must be started as root")
	}
	if err == nil {
		_, err = user.Lookup("postfix")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("postfix is required when CI=true (install postfix): %v", err)
		}
		t.Skipf("SKIP: no usable postfix (%v); install postfix and run as root for the MTA round-trip tests", err)
	}
	dir, err := os.MkdirTemp("/tmp", "postfixtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	s := &Server{Dir: dir, confDir: filepath.Join(dir, "etc"), logFile: filepath.Join(dir, "log", "postfix.log")}
	for _, sub := range []string{"etc", "queue", "data", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pf, _ := user.Lookup("postfix")
	uid, _ := strconv.Atoi(pf.Uid)
	gid, _ := strconv.Atoi(pf.Gid)
	if err := os.Chown(filepath.Join(dir, "data"), uid, gid); err != nil {
		t.Fatal(err)
	}
	var vmail strings.Builder
	domains := map[string]bool{}
	for _, u := range users {
		fmt.Fprintf(&vmail, "%s OK\n", u)
		domains[u[strings.LastIndexByte(u, '@')+1:]] = true
	}
	if err := os.WriteFile(filepath.Join(s.confDir, "vmailbox"), []byte(vmail.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var doms []string
	for d := range domains {
		doms = append(doms, d)
	}
	banner := "postfixtest-" + strings.ToLower(rand.Text()[:10])
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(s.logFile); err == nil {
				t.Logf("postfixtest: postfix.log:\n%s", tail(b, 8192))
			}
		}
	})
	for attempt := 1; ; attempt++ {
		port := freePort(t)
		writeConf(t, s.confDir, conf{Dir: dir, Port: port, LMTP: lmtpAddr, Domains: strings.Join(doms, " "), Banner: banner})
		if out, err := exec.Command(bin, "-c", s.confDir, "check").CombinedOutput(); err != nil {
			t.Fatalf("postfixtest: postfix check: %v\n%s", err, out)
		}
		if out, err := exec.Command(bin, "-c", s.confDir, "start").CombinedOutput(); err != nil {
			t.Fatalf("postfixtest: postfix start: %v\n%s", err, out)
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err := waitReady(addr, banner)
		if err == nil {
			s.Addr = addr
			t.Cleanup(func() { _ = exec.Command(bin, "-c", s.confDir, "stop").Run() })
			return s
		}
		_ = exec.Command(bin, "-c", s.confDir, "stop").Run()
		if attempt == startAttempts {
			t.Fatalf("postfixtest: postfix did not come up: %v", err)
		}
		t.Logf("postfixtest: attempt %d: %v; retrying on another port", attempt, err)
	}
}

// Log returns Postfix's log so far (the test's witness of acceptance and
// LMTP delivery).
func (s *Server) Log(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(s.logFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

// WaitLog polls Postfix's log until every want string is in it, or fails
// the test after timeout (Postfix delivers asynchronously).
func (s *Server) WaitLog(t testing.TB, timeout time.Duration, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		log := s.Log(t)
		missing := ""
		for _, w := range want {
			if !strings.Contains(log, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return log
		}
		if time.Now().After(deadline) {
			t.Fatalf("postfixtest: %q not in postfix.log after %v:\n%s", missing, timeout, tail([]byte(log), 4096))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// conf fills the configuration templates.
type conf struct {
	Dir     string
	Port    int
	LMTP    string
	Domains string
	Banner  string
}

// mainCf delivers only the listed users of the listed domains, by LMTP;
// everything else is refused at RCPT, nothing is relayed or delivered
// locally. maillog_file logs to the work dir through postlogd (the
// prefixes setting must allow the path, or Postfix fails silently).
var mainCf = template.Must(template.New("main.cf").Parse(`# Generated by desk's postfixtest for one Go test; deleted afterwards.
compatibility_level = 3.6
queue_directory = {{.Dir}}/queue
data_directory = {{.Dir}}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = {{.Dir}}/log/postfix.log
maillog_file_prefixes = {{.Dir}}/log
myhostname = mail.desk.test
mydomain = desk.test
myorigin = mail.desk.test
smtpd_banner = $myhostname ESMTP {{.Banner}}
biff = no
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
recipient_delimiter = +
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains =
relayhost =
virtual_mailbox_domains = {{.Domains}}
virtual_mailbox_maps = texthash:{{.Dir}}/etc/vmailbox
virtual_transport = lmtp:inet:{{.LMTP}}
local_transport = error:5.1.1 local delivery disabled in postfixtest
relay_transport = error:5.7.1 relaying disabled in postfixtest
default_transport = error:5.7.1 outbound mail disabled in postfixtest
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unlisted_recipient
lmtp_destination_recipient_limit = 1
smtp_tls_security_level = none
lmtp_tls_security_level = none
`))

// masterCf runs nothing chrooted; the smtpd listens on the test's port.
var masterCf = template.Must(template.New("master.cf").Parse(`# Generated by desk's postfixtest.
127.0.0.1:{{.Port}} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`))

func writeConf(t testing.TB, dir string, c conf) {
	t.Helper()
	for name, tpl := range map[string]*template.Template{"main.cf": mainCf, "master.cf": masterCf} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		err = tpl.Execute(f, c)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("postfixtest: %s: %v", name, err)
		}
	}
}

// freePort returns a port that was free a moment ago; Start retries if it
// is taken by the time Postfix binds it.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitReady polls addr until it greets with our banner.
func waitReady(addr, banner string) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			_, _ = c.Write([]byte("QUIT\r\n"))
			c.Close()
			if strings.Contains(line, banner) {
				return nil
			}
			if strings.HasPrefix(line, "220") {
				return fmt.Errorf("%s is another server: %q", addr, line)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no greeting on %s within %v (last error %v)", addr, readyTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
