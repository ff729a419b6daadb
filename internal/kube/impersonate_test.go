package kube

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/spf13/pflag"
)

// An SSH session's connection impersonates the key's user and groups, and only them:
// what the server was started with (--as, --as-group, --as-user-extra) does not leak in.
func TestImpersonatingReplacesTheServersImpersonation(t *testing.T) {
	var mu sync.Mutex
	var seen []http.Header
	api := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"major":"1","minor":"36","gitVersion":"v1.36.3"}`)
	}))
	defer api.Close()
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
current-context: jump
clusters: [{name: c, cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: server, user: {token: server-token}}]
contexts: [{name: jump, context: {cluster: c, user: server, namespace: shop}}]
`, api.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := NewFlags()
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	flags.AddFlags(fs)
	if err := fs.Parse([]string{"--kubeconfig", kubeconfig, "--as", "server-admin", "--as-group", "system:masters", "--as-uid", "42", "--as-user-extra", "scopes=all"}); err != nil {
		t.Fatal(err)
	}
	server, err := Connect(flags)
	if err != nil {
		t.Fatal(err)
	}
	var open atomic.Int32
	session, err := server.Impersonating("alice@example.com", []string{"sre", "oncall"}, func(rt http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(r *http.Request) (*http.Response, error) { open.Add(1); return rt.RoundTrip(r) })
	})
	if err != nil {
		t.Fatal(err)
	}
	if session.Namespace != "shop" || session.Context != "jump" || session.User != "alice@example.com" || session.Health == server.Health {
		t.Errorf("session cluster: ns %q, context %q, user %q, shared health %v", session.Namespace, session.Context, session.User, session.Health == server.Health)
	}
	if server.Config.Impersonate.UserName != "server-admin" {
		t.Errorf("the server's config changed: %+v", server.Config.Impersonate)
	}
	ctx := context.Background()
	if _, err := session.Client.ServerVersion(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Client.ServerVersion(ctx); err != nil {
		t.Fatal(err)
	}
	if open.Load() != 1 {
		t.Errorf("the session's wrapper saw %d requests; want 1", open.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	got := impersonation(seen[0])
	want := map[string][]string{"Impersonate-User": {"alice@example.com"}, "Impersonate-Group": {"sre", "oncall"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("session request impersonates %v; want %v", got, want)
	}
	if seen[0].Get("Authorization") != "Bearer server-token" {
		t.Errorf("session request authenticates as %q; want the server's credentials", seen[0].Get("Authorization"))
	}
	if got := impersonation(seen[1]); got["Impersonate-User"][0] != "server-admin" || got["Impersonate-Uid"][0] != "42" {
		t.Errorf("the server's own request: %v", got)
	}
}

func impersonation(h http.Header) map[string][]string {
	out := map[string][]string{}
	for k, v := range h {
		if len(k) > len("Impersonate-") && k[:len("Impersonate-")] == "Impersonate-" {
			out[k] = v
		}
	}
	return out
}
