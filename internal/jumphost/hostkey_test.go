package jumphost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

func TestHostKeyIsCreatedOnceWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "host_key")
	first, created, err := HostKey(path)
	if err != nil || !created || first.PublicKey().Type() != gossh.KeyAlgoED25519 {
		t.Fatalf("first: %v, created %v", err, created)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v, %v", info.Mode(), err)
	}
	again, created, err := HostKey(path)
	if err != nil || created || gossh.FingerprintSHA256(again.PublicKey()) != gossh.FingerprintSHA256(first.PublicKey()) {
		t.Fatalf("second read: %v, created %v: another key", err, created)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := HostKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a key others may read: %v", err)
	}
}

func TestKnownHostsLine(t *testing.T) {
	signer, line := newKey(t)
	for addr, want := range map[string]string{
		"127.0.0.1:2222": "[127.0.0.1]:2222 " + line,
		"[::]:2222":      "[HOST]:2222 " + line,
		"jump:22":        "jump " + line,
	} {
		if got := KnownHostsLine(addr, signer.PublicKey()); got != want {
			t.Errorf("%s: %q; want %q", addr, got, want)
		}
	}
}
