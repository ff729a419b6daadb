package kube

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

const twoContexts = `apiVersion: v1
kind: Config
current-context: a
clusters:
- name: a
  cluster: {server: https://a.example:6443}
- name: b
  cluster: {server: https://b.example:6443}
users:
- name: alice
  user: {token: alice-token}
contexts:
- name: a
  context: {cluster: a, user: alice, namespace: default}
- name: b
  context: {cluster: b, user: alice, namespace: payments}
`

// The flags mean what they mean to kubectl: same names, same effect on the connection.
func TestFlagsAreKubectlsConnectionFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(twoContexts), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := NewFlags()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	flags.AddFlags(fs)
	for _, name := range []string{"kubeconfig", "context", "cluster", "user", "namespace", "server", "token", "as", "as-group", "as-uid",
		"as-user-extra", "certificate-authority", "client-certificate", "client-key", "insecure-skip-tls-verify", "tls-server-name",
		"request-timeout", "disable-compression", "cache-dir"} {
		if fs.Lookup(name) == nil {
			t.Errorf("kubectl's --%s is missing", name)
		}
	}
	if fs.ShorthandLookup("n") == nil || fs.ShorthandLookup("s") == nil {
		t.Error("kubectl's -n and -s are missing")
	}
	err := fs.Parse([]string{"--kubeconfig", path, "--context", "b", "--as", "bob", "--as-group", "sre",
		"--as-user-extra", "team=checkout", "--as-user-extra", "team=payments", "--request-timeout", "5s", "--cache-dir", "/tmp/x"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := flags.ClientConfig().ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "https://b.example:6443" || cfg.BearerToken != "alice-token" || cfg.Timeout != 5*time.Second {
		t.Errorf("context b: host %q, token %q, timeout %v", cfg.Host, cfg.BearerToken, cfg.Timeout)
	}
	if cfg.Impersonate.UserName != "bob" || !slices.Equal(cfg.Impersonate.Groups, []string{"sre"}) ||
		!slices.Equal(cfg.Impersonate.Extra["team"], []string{"checkout", "payments"}) {
		t.Errorf("impersonation: %+v", cfg.Impersonate)
	}
	if ns, _, err := flags.ClientConfig().Namespace(); err != nil || ns != "payments" {
		t.Errorf("namespace %q (%v), want the context's: payments", ns, err)
	}
	if err := fs.Parse([]string{"-n", "shop"}); err != nil {
		t.Fatal(err)
	}
	if ns, _, _ := flags.ClientConfig().Namespace(); ns != "shop" {
		t.Errorf("-n shop gave namespace %q", ns)
	}
}

// A certificate path that does not exist is named, with where to fix it.
func TestUnreadableCertificateSaysWhichFile(t *testing.T) {
	flags := NewFlags()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	flags.AddFlags(fs)
	missing := filepath.Join(t.TempDir(), "missing.crt")
	if err := fs.Parse([]string{"--server", "https://127.0.0.1:6443", "--client-certificate", missing, "--client-key", missing}); err != nil {
		t.Fatal(err)
	}
	_, err := Connect(flags)
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "--client-certificate") {
		t.Errorf("error %v; want the missing file named and the flags to check", err)
	}
}
