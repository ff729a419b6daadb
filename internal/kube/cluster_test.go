package kube

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// An exec credential plugin that never answers (client-go runs it without the request's
// context) does not hold the connection past its timeout: the error names the plugin.
func TestPreflightGivesUpOnAHungExecPlugin(t *testing.T) {
	// TLS: clientcmd uses a kubeconfig's credentials only over TLS.
	server := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"major":"1","minor":"36"}`))
	}))
	defer server.Close()
	path := filepath.Join(t.TempDir(), "config")
	config := `apiVersion: v1
kind: Config
current-context: hung
clusters:
- name: c
  cluster: {server: ` + server.URL + `, insecure-skip-tls-verify: true}
users:
- name: sso
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: /bin/sh
      args: ["-c", "sleep 3"]
      interactiveMode: Never
contexts:
- name: hung
  context: {cluster: c, user: sso}
`
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := NewFlags()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	flags.AddFlags(fs)
	if err := fs.Parse([]string{"--kubeconfig", path}); err != nil {
		t.Fatal(err)
	}
	cluster, err := Connect(flags)
	if err != nil {
		t.Fatal(err)
	}
	err = cluster.Preflight(context.Background(), 100*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), `exec credential plugin (user "sso": /bin/sh -c sleep 3) did not answer within 100ms`) {
		t.Errorf("error %v; want the plugin named", err)
	}
}
