package mail

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validAccount is an account that passes Validate; tests break one field.
func validAccount() *Account {
	return &Account{Name: "work", Address: "support@example.com", IMAP: "imaps://imap.example.com", SMTP: "smtps://smtp.example.com",
		User: "support@example.com", PasswordEnv: "DESK_PASSWORD"}
}

func TestValidateDefaults(t *testing.T) {
	a := validAccount()
	a.Address = "Support@Example.COM"
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if a.Mailbox != "INBOX" || a.DefaultProject != "general" || a.SupportBotName != "Support Bot" || a.Address != "support@example.com" {
		t.Errorf("defaults not filled: %+v", a)
	}
	b := validAccount()
	b.Mailbox, b.DefaultProject, b.SupportBotName = "Desk", "help", "Robo"
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	if b.Mailbox != "Desk" || b.DefaultProject != "help" || b.SupportBotName != "Robo" {
		t.Errorf("Validate overwrote settings: %+v", b)
	}
}

func TestValidateErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(a *Account)
		want   string // a piece of the error
	}{
		{"empty address", func(a *Account) { a.Address = "" }, "address"},
		{"no at", func(a *Account) { a.Address = "support" }, "address"},
		{"no local part", func(a *Account) { a.Address = "@example.com" }, "address"},
		{"no domain", func(a *Account) { a.Address = "support@" }, "address"},
		{"sub-address", func(a *Account) { a.Address = "support+x@example.com" }, "address"},
		{"display name", func(a *Account) { a.Address = "Support <support@example.com>" }, "address"},
		{"space", func(a *Account) { a.Address = "sup port@example.com" }, "address"},
		{"two at signs", func(a *Account) { a.Address = "support@ex@ample.com" }, "address"},
		{"imap scheme http", func(a *Account) { a.IMAP = "http://imap.example.com" }, "scheme"},
		{"imap given smtp", func(a *Account) { a.IMAP = "smtps://imap.example.com" }, "scheme"},
		{"imap without scheme", func(a *Account) { a.IMAP = "imap.example.com" }, "imap"},
		{"imap empty", func(a *Account) { a.IMAP = "" }, "imap"},
		{"smtp scheme submission", func(a *Account) { a.SMTP = "submission://smtp.example.com" }, "scheme"},
		{"smtp given imap", func(a *Account) { a.SMTP = "imap://smtp.example.com" }, "scheme"},
		{"smtp empty", func(a *Account) { a.SMTP = "" }, "smtp"},
		{"tls yes", func(a *Account) { a.TLS = "yes" }, "tls"},
		{"tls none remote imap", func(a *Account) {
			a.TLS, a.IMAP, a.SMTP = "none", "imap://imap.example.com", "smtp://127.0.0.1:2525"
		}, "loopback"},
		{"tls none remote smtp", func(a *Account) {
			a.TLS, a.IMAP, a.SMTP = "none", "imap://localhost", "smtp://10.0.0.1"
		}, "loopback"},
		{"tls none loopback-looking name", func(a *Account) {
			a.TLS, a.IMAP, a.SMTP = "none", "imap://localhost.example.com", "smtp://localhost"
		}, "loopback"},
		{"no password source", func(a *Account) { a.PasswordEnv = "" }, "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := validAccount()
			tc.change(a)
			err := a.Validate()
			if err == nil {
				t.Fatalf("Validate accepted %+v", a)
			}
			if !strings.Contains(strings.ToLower(err.Error()), tc.want) || !strings.Contains(err.Error(), "work") {
				t.Errorf("error %q does not name the account and %q", err, tc.want)
			}
		})
	}
	for _, src := range []func(a *Account){
		func(a *Account) { a.PasswordEnv, a.PasswordCmd = "", "pass show desk" },
		func(a *Account) { a.PasswordEnv, a.Password = "", "demo" },
		func(a *Account) { a.TLS, a.IMAP, a.SMTP = "none", "imap://127.0.0.1:1143", "smtp://[::1]:2525" },
		func(a *Account) { a.TLS, a.IMAP, a.SMTP = "none", "imap://localhost", "smtp://127.0.0.2" },
	} {
		a := validAccount()
		src(a)
		if err := a.Validate(); err != nil {
			t.Errorf("Validate refused %+v: %v", a, err)
		}
	}
}

func TestEndpointPorts(t *testing.T) {
	for _, tc := range []struct {
		raw, scheme, tls string
		host             string
		implicit, plain  bool
	}{
		{"imap://mail.example.com", "imap", "", "mail.example.com:143", false, false},
		{"imaps://mail.example.com", "imap", "", "mail.example.com:993", true, false},
		{"imaps://mail.example.com:10993", "imap", "", "mail.example.com:10993", true, false},
		{"smtp://mail.example.com", "smtp", "", "mail.example.com:587", false, false},
		{"smtps://mail.example.com", "smtp", "", "mail.example.com:465", true, false},
		{"smtp://mail.example.com:25", "smtp", "", "mail.example.com:25", false, false},
		{"imap://[2001:db8::1]", "imap", "", "[2001:db8::1]:143", false, false},
		{"imap://127.0.0.1:1143", "imap", "none", "127.0.0.1:1143", false, true},
		{"imaps://localhost", "imap", "none", "localhost:993", false, true},
		{"smtp://[::1]", "smtp", "none", "[::1]:587", false, true},
	} {
		a := &Account{Name: "x", TLS: tc.tls}
		plainPort, tlsPort := 143, 993
		if tc.scheme == "smtp" {
			plainPort, tlsPort = 587, 465
		}
		e, err := a.endpoint(tc.raw, tc.scheme, plainPort, tlsPort)
		if err != nil {
			t.Errorf("endpoint(%q): %v", tc.raw, err)
			continue
		}
		if e.host != tc.host || e.implicit != tc.implicit || e.plain != tc.plain {
			t.Errorf("endpoint(%q, tls %q) = %+v; want host %s implicit %v plain %v", tc.raw, tc.tls, e, tc.host, tc.implicit, tc.plain)
		}
	}
}

func TestSecretSources(t *testing.T) {
	ctx := context.Background()
	t.Setenv("DESK_TEST_PW", "s3cret value")
	for _, tc := range []struct {
		name string
		a    Account
		want string
	}{
		{"direct", Account{Password: "direct"}, "direct"},
		{"direct wins", Account{Password: "direct", PasswordEnv: "DESK_TEST_PW", PasswordCmd: "echo cmd"}, "direct"},
		{"env", Account{PasswordEnv: "DESK_TEST_PW"}, "s3cret value"},
		{"env wins over cmd", Account{PasswordEnv: "DESK_TEST_PW", PasswordCmd: "echo cmd"}, "s3cret value"},
		{"cmd first line", Account{PasswordCmd: `printf 'hunter2\nsecond line\n'`}, "hunter2"},
		{"cmd CRLF", Account{PasswordCmd: `printf 'hunter2\r\n'`}, "hunter2"},
		{"cmd no newline", Account{PasswordCmd: `printf 'pa ss'`}, "pa ss"},
		{"cmd stderr ignored", Account{PasswordCmd: `echo noise >&2; echo hunter2`}, "hunter2"},
	} {
		a := tc.a
		a.Name = "work"
		got, err := a.secret(ctx)
		if err != nil || got != tc.want {
			t.Errorf("%s: secret() = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

func TestSecretErrorsKeepSecrets(t *testing.T) {
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	t.Setenv("DESK_EMPTY_PW", "")
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		a      Account
		hidden []string // must not appear in the error
	}{
		{"unset env", ctx, Account{PasswordEnv: "DESK_UNSET_PW_7f3a"}, nil},
		{"empty env", ctx, Account{PasswordEnv: "DESK_EMPTY_PW"}, nil},
		{"cmd fails after printing", ctx, Account{PasswordCmd: `echo leaked-stdout-hunter2; echo leaked-stderr-hunter3 >&2; exit 3`},
			[]string{"leaked-stdout", "leaked-stderr", "hunter2", "hunter3", "echo"}},
		{"cmd prints nothing", ctx, Account{PasswordCmd: `true`}, []string{"true"}},
		{"cmd prints an empty first line", ctx, Account{PasswordCmd: `printf '\nhunter2\n'`}, []string{"hunter2", "printf"}},
		{"cmd not found", ctx, Account{PasswordCmd: `/nonexistent/pass-helper --secret-arg`}, []string{"secret-arg", "pass-helper"}},
		{"cancelled", cancelled, Account{PasswordCmd: `echo hunter2`}, []string{"hunter2"}},
		{"no source", ctx, Account{}, nil},
	} {
		a := tc.a
		a.Name = "work"
		got, err := a.secret(tc.ctx)
		if err == nil {
			t.Errorf("%s: secret() = %q with no error", tc.name, got)
			continue
		}
		if got != "" {
			t.Errorf("%s: secret() returned %q with its error", tc.name, got)
		}
		if !strings.Contains(err.Error(), "work") {
			t.Errorf("%s: error %q does not name the account", tc.name, err)
		}
		for _, h := range tc.hidden {
			if strings.Contains(err.Error(), h) {
				t.Errorf("%s: error %q reveals %q", tc.name, err, h)
			}
		}
	}
}

func TestTLSConfigCAFile(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{filepath.Join(dir, "missing.pem"), garbage} {
		a := &Account{Name: "work", CAFile: file}
		if _, err := a.tlsConfig("imap.example.com:993"); err == nil {
			t.Errorf("tlsConfig accepted ca_file %s", filepath.Base(file))
		}
	}
	a := &Account{Name: "work"}
	cfg, err := a.tlsConfig("imap.example.com:993")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ServerName != "imap.example.com" || cfg.InsecureSkipVerify || cfg.RootCAs != nil {
		t.Errorf("tls config %+v", cfg)
	}
}

func TestProjectName(t *testing.T) {
	a := &Account{ProjectNames: map[string]string{"billing": "Billing & Payments"}}
	for _, tc := range []struct{ tag, want string }{
		{"billing", "Billing & Payments"},
		{"sales", "Sales"},
		{"customer-success", "Customer-success"},
		{"", "Support"},
		{"été", "Été"},
	} {
		if got := a.projectName(tc.tag); got != tc.want {
			t.Errorf("projectName(%q) = %q, want %q", tc.tag, got, tc.want)
		}
	}
}
