//go:build e2e

package e2e

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox/demo"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
)

// completions runs `kubectl-pyroll __complete ARGS` (what the kubectl shim runs) and
// returns the suggestions and the directive line.
func completions(t *testing.T, kubeconfig string, args ...string) ([]string, string) {
	t.Helper()
	stdout, _, code := runPyroll(t, 30*time.Second, kubeconfig, append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %v: exit %d\n%s", args, code, stdout)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	return lines[:len(lines)-1], lines[len(lines)-1]
}

func TestCompletionOfRolloutNamesContextsAndFormats(t *testing.T) {
	sb := sandboxtest.Get(t)
	names, directive := completions(t, sb.Kubeconfig, "-n", demo.Namespace, "status", "")
	if got := strings.Join(names, " "); got != "checkout-api orders-api payments-api search-api" || directive != ":4" {
		t.Errorf("status <TAB> in the demo: %q %q; want the four rollouts (three Deployments, one Argo Rollout), no files (:4)", got, directive)
	}
	if names, _ := completions(t, sb.Kubeconfig, "-n", demo.Namespace, "promote", "rollout/"); strings.Join(names, " ") != "rollout/checkout-api" {
		t.Errorf("promote rollout/<TAB>: %q; want the Argo Rollout only", names)
	}
	if names, _ := completions(t, sb.Kubeconfig, "-n", demo.Namespace, "rollback", "or"); strings.Join(names, " ") != "orders-api" {
		t.Errorf("rollback or<TAB>: %q", names)
	}
	if names, _ := completions(t, sb.Kubeconfig, "-n", demo.Namespace, "history", "deploy/se"); strings.Join(names, " ") != "deploy/search-api" {
		t.Errorf("history deploy/se<TAB>: %q", names)
	}
	if names, _ := completions(t, sb.Kubeconfig, "--context", ""); len(names) == 0 {
		t.Errorf("--context <TAB>: no contexts from the kubeconfig")
	}
	if names, _ := completions(t, sb.Kubeconfig, "-n", ""); !strings.Contains(strings.Join(names, " "), demo.Namespace) {
		t.Errorf("-n <TAB>: %q lacks %s", names, demo.Namespace)
	}
	revisions, _ := completions(t, sb.Kubeconfig, "-n", demo.Namespace, "rollback", "orders-api", "--to-revision", "")
	if len(revisions) != 2 || !strings.HasPrefix(revisions[0], "2\tcanary ") || !strings.HasPrefix(revisions[1], "1\tstable ") {
		t.Errorf("--to-revision <TAB>: %q; want the revisions, newest first, with role and SHA", revisions)
	}
}

// A server that accepts the connection and never answers: completion gives up at its
// timeout, with no names and no error text for the shell to show.
func TestCompletionGivesUpQuietlyOnAHungServer(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close() // never accepts: the TLS handshake hangs
	kubeconfig := filepath.Join(t.TempDir(), "hung.yaml")
	config := "apiVersion: v1\nkind: Config\nclusters:\n- name: hung\n  cluster:\n    server: https://" + listener.Addr().String() +
		"\n    insecure-skip-tls-verify: true\ncontexts:\n- name: hung\n  context:\n    cluster: hung\n    user: u\nusers:\n- name: u\n  user:\n    token: t\ncurrent-context: hung\n"
	if err := os.WriteFile(kubeconfig, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	names, directive := completions(t, kubeconfig, "status", "")
	if len(names) != 0 || directive != ":4" {
		t.Errorf("against a hung server: %q %q; want nothing and :4", names, directive)
	}
}

// kubectl itself completes `kubectl pyroll ...` through the shim on PATH (kubectl 1.26+).
func TestKubectlCompletesThePluginThroughTheShim(t *testing.T) {
	sb := sandboxtest.Get(t)
	kubectl := filepath.Join(sandboxtest.ToolsBin(), "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		t.Fatalf("kubectl is built with the control plane (make tools): %v", err)
	}
	path := t.TempDir()
	if err := os.Symlink(pyrollBinary(), filepath.Join(path, "kubectl-pyroll")); err != nil {
		t.Fatal(err)
	}
	shim, err := os.ReadFile(filepath.Join(sandboxtest.RepoRoot(), "assets", "kubectl_complete-pyroll"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "kubectl_complete-pyroll"), shim, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, "__complete", "pyroll", "-n", demo.Namespace, "status", "")
	cmd.Env = append(os.Environ(), "PATH="+path+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG="+sb.Kubeconfig)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl __complete pyroll: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if got := strings.Join(lines[:len(lines)-1], " "); got != "checkout-api orders-api payments-api search-api" || lines[len(lines)-1] != ":4" {
		t.Errorf("kubectl __complete pyroll -n %s status '': %q", demo.Namespace, out)
	}
}
