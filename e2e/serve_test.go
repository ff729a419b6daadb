//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/jumphost"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/auditlog"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/demo"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// jumpHost is a running `kubectl pyroll serve --ssh` and what an OpenSSH client needs to
// reach it.
type jumpHost struct {
	t          *testing.T
	proc       *streamingCommand
	port       string
	knownHosts string
	auditLog   string
	debugAddr  string
	debugURL   string
}

// startJumpHost runs serve on 127.0.0.1 (a free port) with the server identity's
// kubeconfig and the authorized-keys file, and waits for its known_hosts line.
func startJumpHost(t *testing.T, dir, kubeconfig, ns, keys string, args ...string) *jumpHost {
	t.Helper()
	name := fmt.Sprintf("jump-%d", time.Now().UnixNano())
	j := &jumpHost{t: t, knownHosts: filepath.Join(dir, name+".known_hosts"), auditLog: filepath.Join(dir, name+".audit.jsonl")}
	debugAddr := freeAddr(t)
	j.debugAddr, j.debugURL = debugAddr, "http://"+debugAddr+"/debug/pyroll"
	j.proc = startPyroll(t, kubeconfig, append([]string{"-n", ns, "serve", "--ssh", "127.0.0.1:0", "--authorized-keys", keys,
		"--host-key", filepath.Join(dir, "host_ed25519_key"), "--audit-log", j.auditLog, "--debug-addr", debugAddr}, args...)...)
	var line string
	eventually(t, time.Minute, "serve prints its known_hosts line", func(context.Context) error {
		for _, l := range j.proc.output() {
			if rest, ok := strings.CutPrefix(l, "known_hosts: "); ok {
				line = rest
				return nil
			}
		}
		return errorf("stdout %q, stderr %q", j.proc.output(), j.proc.stderr.String())
	})
	host, _, _ := strings.Cut(line, " ")
	j.port = strings.TrimPrefix(host, "[127.0.0.1]:")
	if _, err := strconv.Atoi(j.port); err != nil {
		t.Fatalf("known_hosts line %q: no [127.0.0.1]:PORT", line)
	}
	if err := os.WriteFile(j.knownHosts, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return j
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// ssh is the OpenSSH client's command line for key, with opts before the host and the
// remote command after it: no user config, no agent, the server's key pinned.
func (j *jumpHost) ssh(key string, opts []string, command ...string) []string {
	args := []string{"-F", "/dev/null", "-o", "UserKnownHostsFile=" + j.knownHosts, "-o", "StrictHostKeyChecking=yes",
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
		"-i", key, "-p", j.port}
	args = append(append(args, opts...), "127.0.0.1")
	return append(args, command...)
}

// typeSSH runs the OpenSSH client for key in pane, as a person types it; the shell then
// prints SSH-EXITED-<its exit code>.
func (j *jumpHost) typeSSH(pane *tmuxPane, key string, opts []string, command ...string) {
	pane.keys("ssh " + strings.Join(j.ssh(key, opts, command...), " ") + "; echo SSH-EXITED-$?")
	pane.key("Enter")
}

// wantPatchAs checks the API server's audit log since then: a PATCH of resource (and
// subresource) in ns, sent by the jump host's identity impersonating user.
func wantPatchAs(t *testing.T, sb *sandbox.Sandbox, since time.Time, ns, resource, subresource, jumpUser, user string) {
	t.Helper()
	reqs, err := auditlog.Read(sb.AuditLogPath(), since, func(r auditlog.Request) bool {
		return r.Verb == "patch" && r.Resource == resource && r.Subresource == subresource && r.Namespace == ns
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) == 0 || reqs[0].User != jumpUser || reqs[0].ImpersonatedUser != user {
		t.Errorf("the API server's audit log has the PATCH of %s as %+v; want one by %s impersonating %s", path.Join(resource, subresource), reqs, jumpUser, user)
	}
}

// run runs ssh to its end (a minute at most) and returns its output and exit code.
func (j *jumpHost) run(key string, opts []string, command ...string) (string, int) {
	j.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ssh", j.ssh(key, opts, command...)...).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		j.t.Fatalf("ssh %v: still running after a minute: %s", command, out)
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	case err != nil:
		j.t.Fatal(err)
	}
	return string(out), 0
}

// stats reads the server's session and open-request counts.
func (j *jumpHost) stats(gc bool) (jumphost.Stats, error) {
	url := j.debugURL
	if gc {
		url += "?gc=1"
	}
	resp, err := http.Get(url)
	if err != nil {
		return jumphost.Stats{}, err
	}
	defer resp.Body.Close()
	var s jumphost.Stats
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

func (j *jumpHost) waitStats(what string, cond func(jumphost.Stats) bool) jumphost.Stats {
	j.t.Helper()
	var last jumphost.Stats
	eventually(j.t, time.Minute, what, func(context.Context) error {
		s, err := j.stats(false)
		if err != nil {
			return err
		}
		last = s
		if !cond(s) {
			return errorf("%+v", s)
		}
		return nil
	})
	return last
}

// audit reads the jump host's audit log.
func (j *jumpHost) audit() []jumphost.Record {
	j.t.Helper()
	data, err := os.ReadFile(j.auditLog)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		j.t.Fatal(err)
	}
	var out []jumphost.Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var r jumphost.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			j.t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// waitAudit waits until the audit log has a record for which match holds, and returns it.
func (j *jumpHost) waitAudit(what string, match func(jumphost.Record) bool) jumphost.Record {
	j.t.Helper()
	var found jumphost.Record
	eventually(j.t, time.Minute, what, func(context.Context) error {
		recs := j.audit()
		for _, r := range recs {
			if match(r) {
				found = r
				return nil
			}
		}
		return errorf("audit log: %+v", recs)
	})
	return found
}

// sshKey makes an ed25519 key pair with ssh-keygen and returns the private key's path and
// the public key line.
func sshKey(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	path := filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	pub, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return path, strings.TrimSpace(string(pub))
}

// jumpIdentity is the server's own user, allowed to impersonate exactly users and groups:
// the README's ClusterRole, limited by resourceNames.
func jumpIdentity(t *testing.T, name string, users, groups []string) string {
	t.Helper()
	return jumpIdentityIn(t, sandboxtest.Get(t), name, users, groups)
}

// jumpIdentityIn is jumpIdentity on the cluster of sb.
func jumpIdentityIn(t *testing.T, sb *sandbox.Sandbox, name string, users, groups []string) string {
	t.Helper()
	ctx := context.Background()
	rbac := sb.Client().RbacV1()
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"users"}, Verbs: []string{"impersonate"}, ResourceNames: users},
		{APIGroups: []string{""}, Resources: []string{"groups"}, Verbs: []string{"impersonate"}, ResourceNames: groups},
	}}
	if _, err := rbac.ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: name, APIGroup: "rbac.authorization.k8s.io"}}}
	if _, err := rbac.ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = rbac.ClusterRoleBindings().Delete(context.Background(), name, metav1.DeleteOptions{})
		_ = rbac.ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	kubeconfig, err := sb.UserKubeconfig(name)
	if err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}

var (
	readRollouts = []rbacv1.PolicyRule{
		{APIGroups: []string{"apps"}, Resources: []string{"deployments", "replicasets"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"pods", "pods/log", "events"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"argoproj.io"}, Resources: []string{"rollouts", "analysisruns"}, Verbs: []string{"get", "list", "watch"}},
	}
	editRollouts = append(append([]rbacv1.PolicyRule{}, readRollouts...),
		rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"patch", "update"}},
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create"}},
		rbacv1.PolicyRule{APIGroups: []string{"argoproj.io"}, Resources: []string{"rollouts", "rollouts/status"}, Verbs: []string{"patch", "update"}})
)

// The jump host end to end, with the real OpenSSH client: who each key is, what it may
// do, what is refused, and what the audit logs (ours and the API server's) keep.
func TestServeOverSSH(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Fatal("the OpenSSH client is not installed: run make deps")
	}
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	ns := newNamespace(t)
	if err := demo.SeedIn(ctx, sb.Client(), ns); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedCheckoutIn(ctx, sb, ns); err != nil { // an Argo Rollout, paused at step 1
		t.Fatal(err)
	}
	dir := t.TempDir()
	alice, aliceLine := sshKey(t, dir, "alice")
	bob, bobLine := sshKey(t, dir, "bob")
	stranger, _ := sshKey(t, dir, "stranger")
	userWithRole(t, ns, "alice@example.com", readRollouts)
	userWithRole(t, ns, "bob@example.com", editRollouts)
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, []byte(strings.Join([]string{
		"# the jump host's keys",
		`pyroll-user="alice@example.com",pyroll-groups="sre,oncall" ` + aliceLine,
		`pyroll-user="bob@example.com",pyroll-write,from="127.0.0.0/8" ` + bobLine,
	}, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	jumpUser := "pyroll-jump-" + ns
	kubeconfig := jumpIdentity(t, jumpUser, []string{"alice@example.com", "bob@example.com"}, []string{"sre", "oncall"})
	j := startJumpHost(t, dir, kubeconfig, ns, keys, "--allow-write")

	t.Run("alice reads, h p r are off with the reason, a resize redraws", func(t *testing.T) {
		pane := startTmux(t, 120, 30)
		j.typeSSH(pane, alice, nil)
		s := pane.waitScreen("the demo list as alice", containsAll("alice@example.com", "orders-api", "search-api", "payments-api", "GUARD"))
		if header := strings.SplitN(s, "\n", 2)[0]; !strings.Contains(header, "alice@example.com") {
			t.Errorf("the header does not name alice: %q", header)
		}
		pane.waitScreen("actions off with the reason", containsAll("actions off: read-only: this key has no pyroll-write"))
		for _, k := range []string{"h", "p", "r"} {
			pane.keys(k)
			pane.waitScreen(k+" refused", containsAll("not available: read-only: this key has no pyroll-write"))
		}
		pane.resize(60, 20)
		s = pane.waitScreen("the list at 60x20", func(s string) bool { return strings.Contains(s, "orders-api") && !strings.Contains(s, "GUARD") })
		for _, line := range strings.Split(s, "\n") {
			if len([]rune(line)) > 60 {
				t.Errorf("line wider than the 60-column window: %q", line)
			}
		}
		pane.resize(120, 30)
		pane.waitScreen("the list at 120x30 again", containsAll("GUARD", "orders-api"))
		pane.keys("q")
		pane.waitScreen("ssh ended", containsAll("SSH-EXITED-0"))
		if d := getDeployment(t, ns, "orders-api"); !d.Spec.Paused {
			t.Errorf("orders-api changed under alice")
		}
	})

	t.Run("bob halts orders-api as bob", func(t *testing.T) {
		if err := workload.SetPaused(ctx, sb.Client(), ns, "orders-api", false); err != nil {
			t.Fatal(err)
		}
		since := time.Now()
		pane := startTmux(t, 120, 30)
		j.typeSSH(pane, bob, []string{"-t"}, "orders-api")
		pane.waitScreen("orders-api's detail, progressing, as bob", func(s string) bool {
			return strings.Contains(s, "bob@example.com") && strings.Contains(s, "orders-api") && strings.Contains(s, "Progressing") && !strings.Contains(s, "search-api")
		})
		pane.keys("h")
		pane.waitScreen("the halt result", containsAll("halted orders-api"))
		if !getDeployment(t, ns, "orders-api").Spec.Paused {
			t.Errorf("orders-api not paused after bob's h")
		}
		wantPatchAs(t, sb, since, ns, "deployments", "", jumpUser, "bob@example.com")
		pane.keys("q")
		pane.waitScreen("ssh ended", containsAll("SSH-EXITED-0"))
		start := j.waitAudit("bob's start", func(r jumphost.Record) bool { return r.Event == "start" && r.User == "bob@example.com" })
		halt := j.waitAudit("bob's halt", func(r jumphost.Record) bool { return r.Event == "action" && r.User == "bob@example.com" })
		end := j.waitAudit("bob's end", func(r jumphost.Record) bool { return r.Event == "end" && r.User == "bob@example.com" })
		if !start.Write || start.Fingerprint == "" || !strings.HasPrefix(start.Remote, "127.0.0.1:") || !strings.HasPrefix(start.ClientVersion, "SSH-2.0-OpenSSH") || start.Command != "orders-api" {
			t.Errorf("start record: %+v", start)
		}
		if halt.Verb != "halt" || halt.Kind != "Deployment" || halt.Namespace != ns || halt.Name != "orders-api" || halt.Result != "ok" || halt.Session != start.Session {
			t.Errorf("action record: %+v", halt)
		}
		if end.Reason != "quit" || end.Session != start.Session {
			t.Errorf("end record: %+v", end)
		}
	})

	// The same driver acts on an Argo Rollout: h aborts it, on its status subresource, as bob.
	t.Run("bob aborts the Argo Rollout checkout-api as bob", func(t *testing.T) {
		since := time.Now()
		pane := startTmux(t, 120, 30)
		j.typeSSH(pane, bob, []string{"-t"}, "checkout-api")
		pane.waitScreen("checkout-api's detail, paused at its step, as bob", func(s string) bool {
			return strings.Contains(s, "bob@example.com") && strings.Contains(s, "checkout-api") && strings.Contains(s, "Paused") && strings.Contains(s, "STEPS")
		})
		pane.keys("h")
		pane.waitScreen("the abort result", containsAll("aborted checkout-api"))
		if state := rolloutState(t, ns); !state.Status.Abort {
			t.Errorf("checkout-api not aborted after bob's h: %+v", state)
		}
		wantPatchAs(t, sb, since, ns, "rollouts", "status", jumpUser, "bob@example.com")
		pane.keys("q")
		pane.waitScreen("ssh ended", containsAll("SSH-EXITED-0"))
		abort := j.waitAudit("bob's abort", func(r jumphost.Record) bool {
			return r.Event == "action" && r.User == "bob@example.com" && r.Name == "checkout-api"
		})
		if abort.Kind != "Rollout" || abort.Namespace != ns || abort.Result != "ok" {
			t.Errorf("action record: %+v", abort)
		}
	})

	t.Run("refused: an unknown key, -T, a command, sftp, port forwarding", func(t *testing.T) {
		if out, code := j.run(stranger, nil); code != 255 || !strings.Contains(out, "Permission denied (publickey)") {
			t.Errorf("unknown key: exit %d, %q", code, out)
		}
		if out, code := j.run(alice, []string{"-T"}); code != 1 || !strings.Contains(out, "pyroll: the console needs a terminal") {
			t.Errorf("ssh -T: exit %d, %q", code, out)
		}
		if out, code := j.run(alice, nil, "id"); code != 1 || !strings.Contains(out, `pyroll: this host runs the rollout console only, not commands ("id" refused)`) {
			t.Errorf("ssh host id: exit %d, %q", code, out)
		}
		if out, code := j.run(alice, []string{"-s"}, "sftp"); code == 0 || !strings.Contains(out, `subsystem "sftp" refused`) {
			t.Errorf("sftp: exit %d, %q", code, out)
		}
		// ssh -L: the tunnel's channel is refused, with the reason on the client's stderr.
		local := freeAddr(t)
		var stderr lockedBuffer
		fwd := exec.Command("ssh", j.ssh(alice, []string{"-N", "-L", local + ":" + j.debugAddr})...)
		fwd.Stderr = &stderr
		if err := fwd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = fwd.Process.Kill(); _ = fwd.Wait() })
		eventually(t, time.Minute, "ssh -L refused", func(context.Context) error {
			conn, err := net.DialTimeout("tcp", local, time.Second)
			if err != nil {
				return err
			}
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = conn.Write([]byte("GET /debug/pyroll HTTP/1.0\r\n\r\n"))
			reply, _ := io.ReadAll(conn)
			conn.Close()
			if len(reply) > 0 {
				return errorf("the tunnel answered: %q", reply)
			}
			if !strings.Contains(stderr.String(), "administratively prohibited") {
				return errorf("ssh's stderr: %q", stderr.String())
			}
			return nil
		})
		recs := j.audit()
		var refused []string
		for _, r := range recs {
			if r.Event == "refused" {
				refused = append(refused, r.Reason)
			}
		}
		if got := strings.Join(refused, "\n"); !strings.Contains(got, "unknown key") || !strings.Contains(got, "needs a terminal") ||
			!strings.Contains(got, "not commands") || !strings.Contains(got, "subsystem refused") || !strings.Contains(got, "forwarding refused") {
			t.Errorf("refusals in the audit log:\n%s", got)
		}
	})

	t.Run("a killed client ends its session's watchers", func(t *testing.T) {
		j.waitStats("no session left", func(s jumphost.Stats) bool { return s.Sessions == 0 && s.APIRequestsOpen == 0 })
		client := exec.Command("ssh", j.ssh(alice, []string{"-tt"})...)
		stdin, err := client.StdinPipe() // kept open: the console waits for keys
		if err != nil {
			t.Fatal(err)
		}
		defer stdin.Close()
		client.Stdout = io.Discard
		if err := client.Start(); err != nil {
			t.Fatal(err)
		}
		j.waitStats("the session's watches open", func(s jumphost.Stats) bool { return s.Sessions == 1 && s.APIRequestsOpen >= 4 })
		if err := client.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = client.Wait()
		j.waitStats("the session and its watches gone", func(s jumphost.Stats) bool { return s.Sessions == 0 && s.APIRequestsOpen == 0 })
		j.waitAudit("the killed session's end", func(r jumphost.Record) bool {
			return r.Event == "end" && r.User == "alice@example.com" && r.Reason == "connection closed"
		})
	})

	t.Run("a revoked key is refused at once", func(t *testing.T) {
		if err := os.WriteFile(keys, []byte(`pyroll-user="bob@example.com",pyroll-write `+bobLine+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, code := j.run(alice, []string{"-tt"}); code != 255 || !strings.Contains(out, "Permission denied (publickey)") {
			t.Errorf("alice after her line went: exit %d, %q", code, out)
		}
	})
}

// --idle counts from the last key press: a console left alone closes, saying why.
func TestServeIdleClosesTheSession(t *testing.T) {
	ns := newNamespace(t)
	v1, _ := releaseV1V2(ns, "idle-api")
	applyComplete(t, v1)
	dir := t.TempDir()
	alice, aliceLine := sshKey(t, dir, "alice")
	userWithRole(t, ns, "idle-alice@example.com", readRollouts)
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, []byte(`pyroll-user="idle-alice@example.com" `+aliceLine+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kubeconfig := jumpIdentity(t, "pyroll-jump-"+ns, []string{"idle-alice@example.com"}, []string{"none"})
	j := startJumpHost(t, dir, kubeconfig, ns, keys, "--idle", "2s")
	pane := startTmux(t, 100, 24)
	drawn := filepath.Join(dir, "terminal")
	pane.pipeTo(drawn)
	j.typeSSH(pane, alice, nil)
	pane.waitScreen("the console closed for idleness, with the reason", containsAll("pyroll: closed after 2s without a key press (--idle 2s)", "SSH-EXITED-0"))
	if seen, err := os.ReadFile(drawn); err != nil || !strings.Contains(string(seen), "idle-api") {
		t.Errorf("the console never drew idle-api before it closed (%v)", err)
	}
	j.waitAudit("start", func(r jumphost.Record) bool { return r.Event == "start" && r.User == "idle-alice@example.com" })
	j.waitAudit("end for idleness", func(r jumphost.Record) bool {
		return r.Event == "end" && strings.Contains(r.Reason, "without a key press")
	})
}

// lockedBuffer collects a process's stderr while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// What an extra session costs the jump host: heap (after a GC) and resident memory with one
// console, then with five, on the same scope; and the CPU five idle consoles take in a
// minute. A measurement, not a check: it runs with PYROLL_SERVE_MEASURE=1, on the demo's
// services, or on PYROLL_SERVE_MEASURE_PODS=N steady pods instead, and logs the figures.
func TestServeMeasureCostPerSession(t *testing.T) {
	// No run of make test executes it (it asserts nothing, it measures): make bench's
	// serve phase (hack/scalebench/serve.go) measures the same figures at 10,000 pods.
	if os.Getenv("PYROLL_SERVE_MEASURE") == "" {
		t.Skip("a measurement: set PYROLL_SERVE_MEASURE=1 (README, Jump host)")
	}
	ns := newNamespace(t)
	pods, _ := strconv.Atoi(os.Getenv("PYROLL_SERVE_MEASURE_PODS"))
	shown := "bulk-0"
	for i := 0; i*100 < pods; i++ {
		plainDeployment(t, ns, fmt.Sprintf("bulk-%d", i), int32(min(100, pods-i*100)))
	}
	if pods == 0 { // the demo's three services (one of them crash-looping: not quite idle)
		if err := demo.SeedIn(context.Background(), sandboxtest.Get(t).Client(), ns); err != nil {
			t.Fatal(err)
		}
		shown = "orders-api"
	}
	dir := t.TempDir()
	alice, aliceLine := sshKey(t, dir, "alice")
	userWithRole(t, ns, "alice@example.com", readRollouts)
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, []byte(`pyroll-user="alice@example.com" `+aliceLine+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kubeconfig := jumpIdentity(t, "pyroll-jump-"+ns, []string{"alice@example.com"}, []string{"none"})
	j := startJumpHost(t, dir, kubeconfig, ns, keys)
	pid := j.proc.cmd.Process.Pid

	open := func() {
		pane := startTmux(t, 120, 30)
		pane.keys("ssh " + strings.Join(j.ssh(alice, nil), " "))
		pane.key("Enter")
		pane.waitScreen("the console synced", containsAll("alice@example.com", shown, "live"))
	}
	measure := func(sessions int) (heap, rss uint64) {
		j.waitStats(fmt.Sprintf("%d sessions", sessions), func(s jumphost.Stats) bool { return s.Sessions == sessions })
		s, err := j.stats(true)
		if err != nil {
			t.Fatal(err)
		}
		return s.HeapInuseBytes, residentKB(t, pid) << 10
	}
	open()
	heap1, rss1 := measure(1)
	for i := 0; i < 4; i++ {
		open()
	}
	heap5, rss5 := measure(5)
	t.Logf("scope: %s (%d pods); 1 session: heap %.1f MB, RSS %.1f MB; 5 sessions: heap %.1f MB, RSS %.1f MB; per extra session: heap %.2f MB, RSS %.2f MB",
		shown, pods, mb(heap1), mb(rss1), mb(heap5), mb(rss5), (mb(heap5)-mb(heap1))/4, (mb(rss5)-mb(rss1))/4)

	before := cpuSeconds(t, pid)
	<-time.After(time.Minute) // the window measured, not a wait for something
	spent := cpuSeconds(t, pid) - before
	t.Logf("5 idle consoles: %.2f CPU-s in a minute (%.3f per console)", spent, spent/5)
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// residentKB is VmRSS of process pid.
func residentKB(t *testing.T, pid int) uint64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// cpuSeconds is the user and system CPU time process pid has used.
func cpuSeconds(t *testing.T, pid int) float64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100 // clock ticks (USER_HZ = 100)
}
