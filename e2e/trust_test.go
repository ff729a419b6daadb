//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/jumphost"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/demo"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// hammerH is `yes h | ssh -tt`: h from the session's first byte, for window, then q.
func hammerH(t *testing.T, j *jumpHost, key string, window time.Duration) {
	t.Helper()
	cmd := exec.Command("ssh", j.ssh(key, []string{"-tt"})...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Keys at a typing rate (a ticker) until the window ends; a write error means the
	// session ended, which it must not: the checks after say why.
	typing := time.NewTicker(5 * time.Millisecond)
	defer typing.Stop()
	done := time.After(window)
typing:
	for {
		select {
		case <-done:
			break typing
		case <-typing.C:
			if _, err := stdin.Write([]byte("hhhhhhhh")); err != nil {
				break typing
			}
		}
	}
	_, _ = stdin.Write([]byte("q"))
	_ = stdin.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Signal(syscall.SIGKILL)
		t.Errorf("the ssh session did not end after q")
	}
}

// A key that may not write, mapped to a user whose RBAC may patch, typing h from the
// first byte of the session: the Deployment is never paused, and the jump host's audit
// log says what was refused, to whom, and why. Twice: a key without pyroll-write, and a
// pyroll-write key on a server started without --allow-write.
func TestServeReadOnlyIsEnforcedFromTheFirstByte(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Fatal("the OpenSSH client is not installed: run make deps")
	}
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	ns := newNamespace(t)
	if err := demo.SeedIn(ctx, sb.Client(), ns); err != nil {
		t.Fatal(err)
	}
	if err := workload.SetPaused(ctx, sb.Client(), ns, "orders-api", false); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	carol, carolLine := sshKey(t, dir, "carol")
	dave, daveLine := sshKey(t, dir, "dave")
	userWithRole(t, ns, "carol@example.com", editRollouts)
	userWithRole(t, ns, "dave@example.com", editRollouts)
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, []byte(strings.Join([]string{
		`pyroll-user="carol@example.com" ` + carolLine,
		`pyroll-user="dave@example.com",pyroll-write ` + daveLine,
	}, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kubeconfig := jumpIdentity(t, "pyroll-jump-"+ns, []string{"carol@example.com", "dave@example.com"}, nil)
	for _, c := range []struct {
		name, key, user, reason string
		args                    []string
	}{
		{"a key without pyroll-write", carol, "carol@example.com", "read-only: this key has no pyroll-write", []string{"--allow-write"}},
		{"a server without --allow-write", dave, "dave@example.com", "read-only: the jump host runs without --allow-write", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			j := startJumpHost(t, dir, kubeconfig, ns, keys, c.args...)
			hammerH(t, j, c.key, 5*time.Second)
			if d := getDeployment(t, ns, "orders-api"); d.Spec.Paused {
				t.Fatalf("orders-api was paused by %s: %s", c.user, d.Annotations[intent.LastActionAnnotation])
			}
			// The keys typed before the permissions were answered are refused as such; the
			// ones after, with the key's reason.
			rec := j.waitAudit("a halt refused for "+c.reason, func(r jumphost.Record) bool {
				return r.Result == "refused" && r.Verb == "halt" && r.Error == c.reason
			})
			if rec.User != c.user || rec.Fingerprint == "" || rec.Name == "" || rec.Namespace != ns || rec.Session == "" {
				t.Errorf("refusal record %+v; want %s's key and the rollout", rec, c.user)
			}
			for _, r := range j.audit() {
				if r.Event == "action" && (r.Result != "refused" || (r.Error != c.reason && r.Error != intent.PermissionsPending)) {
					t.Errorf("an action not refused for the key's reason: %+v", r)
				}
			}
		})
	}
}

// The guard halts a breaching canary; a person promotes it; the guard restarts: the canary
// keeps breaching, and the guard leaves it alone (its memory is on the object).
func TestGuardRestartDoesNotHaltWhatAPersonPromoted(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	breachingCanary(t, ns, "pay-api")
	first := startGuard(t, sb.Kubeconfig, "-n", ns, "--after", "2")
	eventually(t, 3*time.Minute, "pay-api halted by the guard", func(context.Context) error {
		if last, paused := lastActionOf(t, ns, "pay-api"); !paused || last.Action != intent.Halt || last.Guard != "guard" {
			return errorf("paused %v, last action %+v", paused, last)
		}
		return nil
	})
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	first.wait(t, 30*time.Second)
	if stdout, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "promote", "pay-api", "--reason", "a person's call"); code != 0 {
		t.Fatalf("promote: exit %d\n%s%s", code, stdout, stderr)
	}
	d := getDeployment(t, ns, "pay-api")
	var acted intent.GuardActed
	if d.Spec.Paused || json.Unmarshal([]byte(d.Annotations[intent.GuardActedAnnotation]), &acted) != nil || acted.Revision != 2 {
		t.Fatalf("after the promote: paused %v, guard memory %q", d.Spec.Paused, d.Annotations[intent.GuardActedAnnotation])
	}
	second := startGuard(t, sb.Kubeconfig, "-n", ns, "--after", "2")
	// Breaching rounds go by (the verdict is logged once, then rounds stay BREACH).
	second.waitLog(t, 2*time.Minute, `"msg":"verdict"`, `"verdict":"BREACH"`, `"rollout":"deployment/pay-api"`)
	consistently(t, 10*time.Second, "no second halt", func() error {
		if last, paused := lastActionOf(t, ns, "pay-api"); paused || last.Action != intent.Promote {
			return errorf("paused %v, last action %+v", paused, last)
		}
		return nil
	})
	if strings.Contains(second.log(), `"action":"halt"`) {
		t.Errorf("the restarted guard acted:\n%s", second.log())
	}
}
