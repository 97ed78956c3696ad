// Package dovecottest starts private, throwaway Dovecot IMAP servers for Go
// tests, so that code paths the in-memory server cannot exercise (CONDSTORE,
// keyword case, IDLE push of new mail) run against a real server.
//
// Each Server lives in its own work dir with its own instance name, base_dir
// and state_dir, listens on plain IMAP on a free 127.0.0.1 port, and is
// stopped and deleted when the test ends. Several can run at once.
package dovecottest

import (
	"bufio"
	"bytes"
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
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// Users lists the accounts of every Server. The login is the full address.
var Users = []string{
	"support@desk.test",
	"alice@customer.test",
	"bob@customer.test",
	"agent@desk.test",
}

// skipMessage is the reason given when the dovecot binaries are missing.
const skipMessage = "SKIP: dovecot not installed; install dovecot-imapd to run the real-server tests"

// Bounds on starting and stopping a server.
const (
	startAttempts = 5                // fresh ports tried when the bind races
	readyTimeout  = 20 * time.Second // from exec to the IMAP greeting
	stopTimeout   = 10 * time.Second // from SIGTERM to the master's exit
)

// Server is a running private Dovecot instance.
type Server struct {
	Addr     string // "127.0.0.1:PORT", plain IMAP; LOGIN without TLS works
	LMTPAddr string // "127.0.0.1:PORT" of LMTP (StartLMTP only), delivering to INBOX
	Password string // the same for every user
	Dir      string // its work dir

	conf    string // path of dovecot.conf
	doveadm string // path of the doveadm binary
	dovecot string // path of the dovecot binary
	name    string // instance name, in the greeting
	ids     ids
	inst    *instance // the running master
}

// instance is one attempt at running the dovecot master.
type instance struct {
	cmd    *exec.Cmd
	logDir string
	done   chan struct{} // closed once the master has exited and been reaped
}

// Start starts Dovecot with the users in Users and stops it and removes its
// dir in t.Cleanup. When the dovecot binaries are not in PATH it skips the
// test, or fails it when the CI environment variable is "true".
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, false)
}

// StartLMTP is Start with an LMTP listener as well, for an MTA to deliver
// into (user+detail@domain goes to user's INBOX). It needs dovecot-lmtpd.
func StartLMTP(t testing.TB) *Server {
	t.Helper()
	if _, err := os.Stat("/usr/lib/dovecot/lmtp"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dovecot-lmtpd is required when CI=true: %v", err)
		}
		t.Skip("SKIP: dovecot-lmtpd not installed; install it to run the MTA round-trip tests")
	}
	return start(t, true)
}

func start(t testing.TB, lmtp bool) *Server {
	t.Helper()
	dovecot, err1 := exec.LookPath("dovecot")
	doveadm, err2 := exec.LookPath("doveadm")
	if err := errors.Join(err1, err2); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dovecot is required when CI=true (install dovecot-imapd): %v", err)
		}
		t.Skip(skipMessage)
	}

	s := &Server{Password: rand.Text(), doveadm: doveadm, dovecot: dovecot}
	s.Dir = workDir(t)
	s.conf = filepath.Join(s.Dir, "etc", "dovecot.conf")
	s.ids = identities(t)
	prepare(t, s.Dir, s.ids)
	writePasswd(t, filepath.Join(s.Dir, "etc", "users.passwd"), s.Password)
	t.Cleanup(func() { // runs before the dir is removed
		if t.Failed() {
			dumpLogs(t, s.Dir)
		}
	})

	s.name = "dovecottest-" + strings.ToLower(rand.Text()[:10])
	for attempt := 1; ; attempt++ {
		port, lmtpPort := freePort(t), 0
		if lmtp {
			lmtpPort = freePort(t)
		}
		writeConf(t, s.conf, confData{Dir: s.Dir, Instance: s.name, Port: port, LMTPPort: lmtpPort, IDs: s.ids})
		inst := launch(t, dovecot, s.conf, s.Dir)
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		err := inst.waitReady(addr, s.name)
		if err == nil {
			s.Addr, s.inst = addr, inst
			if lmtp {
				s.LMTPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(lmtpPort))
			}
			t.Cleanup(func() { s.inst.stop() })
			return s
		}
		inst.stop()
		if !errors.Is(err, errPortTaken) || attempt == startAttempts {
			t.Fatalf("dovecottest: start dovecot (attempt %d): %v", attempt, err)
		}
		t.Logf("dovecottest: port %d was taken, retrying with another", port)
	}
}

// Restart stops the server, dropping every connection, and starts it again
// on the same address with the same mail.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.inst.stop()
	s.inst = launch(t, s.dovecot, s.conf, s.Dir)
	if err := s.inst.waitReady(s.Addr, s.name); err != nil {
		t.Fatalf("dovecottest: restart: %v", err)
	}
}

// Deliver appends a raw message to user's INBOX as an MDA would, through
// `doveadm save`. Like t.Fatal, it must be called from the test goroutine.
func (s *Server) Deliver(t testing.TB, user string, raw []byte) {
	t.Helper()
	s.DeliverTo(t, user, "INBOX", raw)
}

// DeliverTo is Deliver into another mailbox of user (it must exist).
func (s *Server) DeliverTo(t testing.TB, user, mailbox string, raw []byte) {
	t.Helper()
	cmd := exec.Command(s.doveadm, "-c", s.conf, "save", "-u", user, "-m", mailbox)
	cmd.Stdin = bytes.NewReader(raw)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dovecottest: deliver to %s/%s: %v\n%s", user, mailbox, err, out)
	}
}

// DeliverBulk delivers many messages to user's INBOX at once: it writes
// them into the Maildir's new/ as an MDA would and has Dovecot index them
// (`doveadm force-resync`), which is far faster than one `doveadm save` per
// message. Their UIDs follow Dovecot's directory scan, not the slice order.
func (s *Server) DeliverBulk(t testing.TB, user string, msgs [][]byte) {
	t.Helper()
	local, domain, _ := strings.Cut(strings.ToLower(user), "@")
	md := filepath.Join(s.Dir, "mail", domain, local, "Maildir")
	uid, _ := strconv.Atoi(s.ids.MailUID)
	gid, _ := strconv.Atoi(s.ids.MailGID)
	for _, p := range []string{filepath.Join(s.Dir, "mail", domain), filepath.Join(s.Dir, "mail", domain, local), md,
		filepath.Join(md, "cur"), filepath.Join(md, "new"), filepath.Join(md, "tmp")} {
		if err := os.Mkdir(p, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			t.Fatalf("dovecottest: %v", err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatalf("dovecottest: %v", err)
		}
	}
	stamp := time.Now().UnixNano()
	for i, raw := range msgs {
		name := fmt.Sprintf("%d.M%09dP%d.dovecottest", stamp/1e9, stamp%1e9+int64(i), os.Getpid())
		tmp := filepath.Join(md, "tmp", name)
		if err := os.WriteFile(tmp, raw, 0o600); err != nil {
			t.Fatalf("dovecottest: %v", err)
		}
		if err := os.Chown(tmp, uid, gid); err != nil {
			t.Fatalf("dovecottest: %v", err)
		}
		if err := os.Rename(tmp, filepath.Join(md, "new", name)); err != nil {
			t.Fatalf("dovecottest: %v", err)
		}
	}
	s.Doveadm(t, "force-resync", "-u", user, "INBOX")
}

// Doveadm runs doveadm on this server's configuration (e.g. "mailbox",
// "create", "-u", user, "Desk") and returns its output.
func (s *Server) Doveadm(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(s.doveadm, append([]string{"-c", s.conf}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("dovecottest: doveadm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Login opens another IMAP session as user, e.g. a teammate changing
// keywords; it is closed at cleanup.
func (s *Server) Login(t testing.TB, user string, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(s.Addr, opts)
	if err != nil {
		t.Fatalf("dovecottest: dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, s.Password).Wait(); err != nil {
		t.Fatalf("dovecottest: login %s: %v", user, err)
	}
	return c
}

// ids says which system accounts Dovecot's processes run as.
type ids struct {
	NonRoot       bool   // dovecot runs unprivileged, as the current user
	Internal      string // default_internal_user (and login user if NonRoot)
	InternalGroup string // default_internal_group, set only if NonRoot
	MailUID       string // uid owning the mail storage
	MailGID       string // gid owning the mail storage
}

// identities picks nobody/nogroup for mail when running as root (Dovecot
// then uses its packaged dovecot and dovenull users for the rest), and the
// current user for everything otherwise.
func identities(t testing.TB) ids {
	t.Helper()
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			t.Fatalf("dovecottest: current user: %v", err)
		}
		g, err := user.LookupGroupId(u.Gid)
		if err != nil {
			t.Fatalf("dovecottest: current group: %v", err)
		}
		return ids{NonRoot: true, Internal: u.Username, InternalGroup: g.Name, MailUID: u.Uid, MailGID: u.Gid}
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("dovecottest: user nobody: %v", err)
	}
	gid := u.Gid
	if g, err := user.LookupGroup("nogroup"); err == nil {
		gid = g.Gid
	}
	return ids{MailUID: u.Uid, MailGID: gid}
}

// workDir creates a fresh work dir that Dovecot's unprivileged processes can
// traverse, and removes it at cleanup. Unix socket paths are limited to
// about 108 bytes, so an unusable or long TMPDIR falls back to /tmp.
func workDir(t testing.TB) string {
	t.Helper()
	parent := os.TempDir()
	if len(parent) > 40 || !traversable(parent) {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "dovecottest-")
	if err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	t.Cleanup(func() { removeAll(t, dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	return dir
}

// traversable reports whether every directory from dir up to / can be
// searched by other users.
func traversable(dir string) bool {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

// prepare lays out the work dir: etc for configuration, run for base_dir,
// state for state_dir, log, and mail owned by the mail user.
func prepare(t testing.TB, dir string, id ids) {
	t.Helper()
	for _, sub := range []string{"etc", "run", "state", "log", "mail"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatalf("dovecottest: %v", err)
		}
	}
	mail := filepath.Join(dir, "mail")
	uid, _ := strconv.Atoi(id.MailUID)
	gid, _ := strconv.Atoi(id.MailGID)
	if err := os.Chown(mail, uid, gid); err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	if err := os.Chmod(mail, 0o700); err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
}

// writePasswd writes the passwd-file passdb: every user with the same
// plain-text password. It is world-readable because Dovecot's auth process
// runs as an unprivileged user.
func writePasswd(t testing.TB, path, password string) {
	t.Helper()
	var b strings.Builder
	for _, u := range Users {
		fmt.Fprintf(&b, "%s:{PLAIN}%s::::::\n", u, password)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
}

// confData fills confTemplate.
type confData struct {
	Dir      string
	Instance string
	Port     int
	LMTPPort int // 0: no LMTP
	IDs      ids
}

// confTemplate is the whole Dovecot configuration; nothing under
// /etc/dovecot is read. Notes on the less obvious settings:
//   - ssl = no and disable_plaintext_auth = no: plain LOGIN on loopback
//     without any certificate.
//   - auth_failure_delay = 0: a wrong password fails at once, not after 2s.
//   - login_greeting carries the instance name, so readiness is only
//     declared when our own server answers on the port.
//   - mailbox_idle_check_interval: IDLE is pushed through inotify; the
//     1-second fallback poll keeps it prompt if inotify runs out.
//   - unprivileged mode: every service runs as the current user and no
//     service chroots, since both need root.
var confTemplate = template.Must(template.New("dovecot.conf").Parse(`# Generated by desk's dovecottest for one Go test; deleted afterwards.
instance_name = {{.Instance}}
base_dir = {{.Dir}}/run
state_dir = {{.Dir}}/state
protocols = imap{{if .LMTPPort}} lmtp{{end}}
listen = 127.0.0.1
log_path = {{.Dir}}/log/dovecot.log
login_greeting = {{.Instance}} ready.
{{- with .IDs}}{{if .NonRoot}}
default_internal_user = {{.Internal}}
default_internal_group = {{.InternalGroup}}
default_login_user = {{.Internal}}
{{- end}}{{end}}

ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Lu
auth_failure_delay = 0

passdb {
  driver = passwd-file
  args = username_format=%Lu {{.Dir}}/etc/users.passwd
}
userdb {
  driver = static
  args = uid={{.IDs.MailUID}} gid={{.IDs.MailGID}} home={{.Dir}}/mail/%Ld/%Ln{{if .LMTPPort}} allow_all_users=yes{{end}}
}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
mailbox_list_index = yes
mailbox_idle_check_interval = 1 secs
mail_max_userip_connections = 100

namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \Junk
    auto = subscribe
  }
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = {{.Port}}
  }
  inet_listener imaps {
    port = 0
  }
}
{{- if .LMTPPort}}
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
lmtp_hdr_delivery_address = final
postmaster_address = postmaster@desk.test
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = {{.LMTPPort}}
  }
}
{{- end}}
{{- if .IDs.NonRoot}}
{{range $s := .NoChroot}}
service {{$s}} {
  chroot =
}
{{- end}}
{{- end}}
`))

// NoChroot lists the services that chroot by default; unprivileged mode
// turns that off.
func (confData) NoChroot() []string {
	return []string{"imap-login", "anvil", "ipc", "old-stats", "aggregator", "director", "imap-urlauth-login"}
}

// writeConf renders the configuration to path.
func writeConf(t testing.TB, path string, d confData) {
	t.Helper()
	var b bytes.Buffer
	if err := confTemplate.Execute(&b, d); err != nil {
		t.Fatalf("dovecottest: config: %v", err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
}

// freePort returns a port that was free a moment ago. Dovecot needs a number
// in its configuration, so a race is possible; Start retries on it.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// launch runs `dovecot -F` in its own process group, output to the log dir.
// Logs of an earlier attempt are discarded.
func launch(t testing.TB, dovecot, conf, dir string) *instance {
	t.Helper()
	_ = os.Remove(filepath.Join(dir, "log", "dovecot.log"))
	out, err := os.OpenFile(filepath.Join(dir, "log", "dovecot.stderr"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	defer out.Close()
	cmd := exec.Command(dovecot, "-F", "-c", conf)
	// A file, not a pipe: Wait must not block on children that linger with
	// the descriptor open.
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // stop stray children as a group
		Pdeathsig: syscall.SIGTERM, // die with the test binary
	}
	// Pdeathsig fires when the starting OS thread ends; Go ends a thread
	// only when a goroutine exits while locked to it, which none here does.
	if err := cmd.Start(); err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	inst := &instance{cmd: cmd, logDir: filepath.Join(dir, "log"), done: make(chan struct{})}
	go func() {
		defer close(inst.done)
		_ = cmd.Wait()
	}()
	return inst
}

// errPortTaken means the configured port was not ours to use.
var errPortTaken = errors.New("port taken")

// waitReady polls addr until it greets with our instance's banner, the
// master exits, or readyTimeout passes.
func (inst *instance) waitReady(addr, name string) error {
	deadline := time.Now().Add(readyTimeout)
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case <-inst.done:
			if inst.logged("Address already in use") {
				return errPortTaken
			}
			return fmt.Errorf("dovecot exited: %v", inst.cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no IMAP greeting on %s within %v", addr, readyTimeout)
		}
		greeting, err := greet(addr)
		switch {
		case err == nil && strings.HasPrefix(greeting, "* OK") && strings.Contains(greeting, name):
			return nil
		case err == nil:
			return fmt.Errorf("%w: %s answered %q", errPortTaken, addr, greeting)
		}
		select {
		case <-inst.done:
		case <-poll.C:
		}
	}
}

// logged reports whether Dovecot's log or stderr mentions text.
func (inst *instance) logged(text string) bool {
	for _, name := range []string{"dovecot.log", "dovecot.stderr"} {
		b, _ := os.ReadFile(filepath.Join(inst.logDir, name))
		if bytes.Contains(b, []byte(text)) {
			return true
		}
	}
	return false
}

// greet dials addr and returns the server's first line.
func greet(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// stop sends SIGTERM to the master and waits for it, then kills whatever is
// left of its process group (anvil, log or auth can outlive the master).
// Those stragglers are not our children and may stay zombies until init
// reaps them, so stop does not wait for them; removeAll retries instead.
func (inst *instance) stop() {
	pid := inst.cmd.Process.Pid
	_ = syscall.Kill(pid, syscall.SIGTERM)
	select {
	case <-inst.done:
	case <-time.After(stopTimeout):
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	<-inst.done
}

// removeAll deletes dir, retrying briefly in case a dying process still
// writes into it.
func removeAll(t testing.TB, dir string) {
	var err error
	for range 10 {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("dovecottest: remove work dir: %v", err)
}

// dumpLogs copies the end of Dovecot's logs into the test output.
func dumpLogs(t testing.TB, dir string) {
	for _, name := range []string{"dovecot.log", "dovecot.stderr"} {
		b, err := os.ReadFile(filepath.Join(dir, "log", name))
		if err != nil || len(b) == 0 {
			continue
		}
		if len(b) > 8192 {
			b = b[len(b)-8192:]
		}
		t.Logf("dovecottest: %s:\n%s", name, b)
	}
}
