package jumphost

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"

	gossh "golang.org/x/crypto/ssh"
)

// HostKey reads the server's private host key at path, or creates an ed25519 one there
// (mode 0600, OpenSSH's format) when there is none; created says which. A key file that
// others may read is refused, as sshd refuses it.
func HostKey(path string) (signer gossh.Signer, created bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		signer, err = createHostKey(path)
		return signer, err == nil, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("host key: %w", err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("host key %s is readable by others (mode %04o): run 'chmod 600 %s'", path, info.Mode().Perm(), path)
	}
	signer, err = gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, false, fmt.Errorf("host key %s: %v (want an unencrypted OpenSSH private key, e.g. from 'ssh-keygen -t ed25519 -N \"\" -f %s')", path, err, path)
	}
	return signer, false, nil
}

func createHostKey(path string) (gossh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := gossh.MarshalPrivateKey(priv, "kubectl-pyroll serve host key")
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create host key: %w", err)
	}
	if _, err := f.Write(pem.EncodeToMemory(block)); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("create host key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("create host key: %w", err)
	}
	return gossh.NewSignerFromKey(priv)
}

// KnownHostsLine is the line a client's known_hosts needs for this server at addr
// (host:port; port 22 is written without brackets, as ssh does). An address that listens
// on every interface is written as HOST, for the reader to fill in.
func KnownHostsLine(addr string, key gossh.PublicKey) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, "22"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "HOST"
	}
	if port != "22" {
		host = "[" + host + "]:" + port
	}
	return host + " " + strings.TrimSpace(string(gossh.MarshalAuthorizedKey(key)))
}
