package mail_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"desk/mail/demo"
	"desk/mail/internal/dovecottest"
)

// TestSecretsNeverShown runs desk with --debug through a good login, a
// refused password, an OAuth token the server cannot take, and configs
// that must be refused, and greps everything desk wrote (stdout, stderr,
// the log) for the secrets.
func TestSecretsNeverShown(t *testing.T) {
	dc := dovecottest.Start(t)
	sink, err := demo.NewSystem()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sink.SMTPPassword = dc.Password
	const (
		wrong = "Wrong-S3cret-4711"
		token = "ya29.Token-S3cret-0815"
		plain = "Plain-S3cret-1234"
	)
	secrets := []string{dc.Password, wrong, token, plain}
	dir := t.TempDir()
	account := func(secretLine string) string {
		return fmt.Sprintf("[accounts.test]\naddress = %q\nimap = \"imap://%s\"\nsmtp = \"smtp://%s\"\nuser = %q\ntls = \"none\"\n%s\n",
			deskAddr, dc.Addr, sink.SMTPAddr, deskAddr, secretLine)
	}
	dc.Deliver(t, deskAddr, customerMail(alice, deskAddr, "Hello", "hello-1@customer.test", "", "hi"))

	cases := []struct {
		name, config string
		mode         os.FileMode
		wantErr      string // "" for success
	}{
		{"good login", account(`password_env = "DESK_TEST_PASSWORD"`), 0o600, ""},
		{"refused password", account(`password_cmd = "printf '%s\n' ` + wrong + `"`), 0o600, "login as support@desk.test"},
		{"oauth not offered", account(`oauth_token_cmd = "echo ` + token + `"`), 0o600, "neither XOAUTH2 nor OAUTHBEARER"},
		{"plaintext password", account(`password = "` + plain + `"`), 0o600, "plaintext passwords are refused"},
		{"readable config", account(`password_env = "DESK_TEST_PASSWORD"`), 0o644, "readable by others (mode 0644)"},
	}
	for i, c := range cases {
		cfg := filepath.Join(dir, fmt.Sprintf("config-%d.toml", i))
		if err := os.WriteFile(cfg, []byte(c.config), c.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(cfg, c.mode); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(deskBinary, "sync", "--once", "--debug", "--config", cfg, "--db", filepath.Join(dir, "desk.db"))
		cmd.Env = append(os.Environ(), "DESK_TEST_PASSWORD="+dc.Password, "XDG_STATE_HOME="+dir)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v\n%s", c.name, err, stderr.String())
		case c.wantErr != "" && (err == nil || !strings.Contains(stderr.String(), c.wantErr)):
			t.Errorf("%s: err %v, stderr %q; want %q", c.name, err, stderr.String(), c.wantErr)
		}
		for _, s := range secrets {
			if strings.Contains(stdout.String()+stderr.String(), s) {
				t.Errorf("%s: desk printed a secret: %s%s", c.name, stdout.String(), stderr.String())
			}
		}
	}
	log, err := os.ReadFile(filepath.Join(dir, "desk", "desk.log"))
	if err != nil {
		t.Fatal(err)
	}
	// --debug logged, and the failures are in the log: what is grepped
	// below is really there.
	for _, want := range []string{"level=DEBUG", "level=ERROR", "login as support@desk.test"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	for _, s := range secrets {
		if strings.Contains(string(log), s) {
			t.Errorf("the log holds a secret:\n%s", log)
		}
	}
	// The good login really synced: the secret was used, just not shown.
	if out := deskRun(t, loopEnv{imapAddr: dc.Addr, password: dc.Password, sink: sink}, dir, "", "list", "--json"); !strings.Contains(out, "Hello") {
		t.Errorf("nothing synced with the good login: %s", out)
	}
}
