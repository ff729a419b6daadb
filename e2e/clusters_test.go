//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/pyroll/kubectl-pyroll/internal/cli"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/jumphost"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/auditlog"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// twoClusterKubeconfig writes one kubeconfig with both sandboxes, as contexts eu (cluster
// eu-west-1) and us (cluster us-east-1), the way a person's kubeconfig names two regions,
// and the config file naming each one's Prometheus.
func twoClusterKubeconfig(t *testing.T, eu, us *sandbox.Sandbox) (kubeconfig, config string) {
	t.Helper()
	kubeconfig, config, err := sandbox.WriteFleet(t.TempDir(), []sandbox.FleetMember{
		{Context: "eu", Cluster: "eu-west-1", Kubeconfig: eu.Kubeconfig, PrometheusURL: eu.PrometheusURL},
		{Context: "us", Cluster: "us-east-1", Kubeconfig: us.Kubeconfig, PrometheusURL: us.PrometheusURL},
	})
	if err != nil {
		t.Fatal(err)
	}
	return kubeconfig, config
}

// mergedKubeconfig is the current context of euKubeconfig as context eu (cluster
// eu-west-1) and of usKubeconfig as us (us-east-1), in one file.
func mergedKubeconfig(t *testing.T, euKubeconfig, usKubeconfig string) string {
	t.Helper()
	kubeconfig, _, err := sandbox.WriteFleet(t.TempDir(), []sandbox.FleetMember{
		{Context: "eu", Cluster: "eu-west-1", Kubeconfig: euKubeconfig},
		{Context: "us", Cluster: "us-east-1", Kubeconfig: usKubeconfig},
	})
	if err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}

// releaseIn applies r in the cluster of client and waits until it is complete.
func releaseIn(t *testing.T, client kubernetes.Interface, r workload.Release) {
	t.Helper()
	ctx := context.Background()
	if err := workload.EnsureNamespace(ctx, client, r.Namespace); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Apply(ctx, client); err != nil {
		t.Fatal(err)
	}
	if err := workload.WaitDeployment(ctx, client, r.Namespace, r.Name, 2*time.Minute, "complete", workload.DeploymentComplete); err != nil {
		t.Fatal(err)
	}
}

// deploymentWrites are the writes of kubectl-pyroll to Deployments in ns on one API
// server since a moment.
func deploymentWrites(t *testing.T, sb *sandbox.Sandbox, ns string, since time.Time) []auditlog.Request {
	t.Helper()
	reqs, err := auditlog.Read(sb.AuditLogPath(), since, func(r auditlog.Request) bool {
		return (r.Verb == "patch" || r.Verb == "update") && r.Resource == "deployments" && r.Namespace == ns && strings.HasPrefix(r.UserAgent, "kubectl-pyroll")
	})
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}

// One console and one status over two real clusters: orders-api is released in both
// (same namespace, same name: two rows), ledger-api only in eu. status names each
// item's context; the console shows both with a CONTEXT column; a halt of us's
// orders-api is asked about naming us's cluster and reaches us's API server only (both
// audit logs); us's API server stopped shows us reconnecting while eu stays live.
// (The test's name makes its namespace: neither "eu" nor "us" in it, so that the filter
// /us matches the context alone.)
func TestFleetOfTwoRegions(t *testing.T) {
	eu := sandboxtest.Get(t)
	us := sandboxtest.Start(t, sandbox.Options{NoArgo: true, Nodes: 1})
	kubeconfig, config := twoClusterKubeconfig(t, eu, us)
	ns := newNamespace(t)
	orders, _ := releaseV1V2(ns, "orders-api")
	ledger, _ := releaseV1V2(ns, "ledger-api")
	releaseIn(t, eu.Client(), orders)
	releaseIn(t, eu.Client(), ledger)
	releaseIn(t, us.Client(), orders)

	t.Run("status names each item's context", func(t *testing.T) {
		stdout, stderr, code := runPyroll(t, time.Minute, kubeconfig, "-n", ns, "status", "--contexts", "eu,us", "-o", "json")
		var list cli.StatusList
		if code != 0 || json.Unmarshal([]byte(stdout), &list) != nil {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		got := map[string]bool{}
		for _, item := range list.Items {
			got[item.Cluster+"/"+item.Name] = true
		}
		if len(list.Items) != 3 || !got["eu/orders-api"] || !got["us/orders-api"] || !got["eu/ledger-api"] || strings.Join(list.Contexts, ",") != "eu,us" {
			t.Fatalf("items %v, contexts %v\n%s", got, list.Contexts, stdout)
		}
		stdout, stderr, code = runPyroll(t, time.Minute, kubeconfig, "-n", ns, "status", "--contexts", "/^(eu|us)$/")
		if code != 0 || !strings.Contains(stdout, "CONTEXT") || strings.Count(stdout, "orders-api") != 2 {
			t.Fatalf("the table by a pattern: exit %d\n%s\n%s", code, stdout, stderr)
		}
		// --watch settles when the rollout has settled in every context, each line naming its own.
		stdout, stderr, code = runPyroll(t, time.Minute, kubeconfig, "-n", ns, "status", "orders-api", "--contexts", "eu,us", "--watch", "-o", "ndjson", "--timeout", "50s")
		if code != 0 || !strings.Contains(stdout, `"context":"eu"`) || !strings.Contains(stdout, `"context":"us"`) || strings.Contains(stdout, "ledger-api") {
			t.Fatalf("status orders-api --watch over both: exit %d\n%s\n%s", code, stdout, stderr)
		}
		_, stderr, code = runPyroll(t, time.Minute, kubeconfig, "-n", ns, "status", "--contexts", "eu,mars")
		if code != 2 || !strings.Contains(stderr, `no context "mars" in the kubeconfig (it has: eu, us)`) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Fatalf("an unknown context: exit %d, stderr %q; want 2 and one line naming what there is", code, stderr)
		}
	})

	t.Run("each context's own Prometheus", func(t *testing.T) {
		states := func() (map[string]metrics.State, string) {
			stdout, stderr, code := runPyroll(t, time.Minute, kubeconfig, "-n", ns, "status", "--contexts", "eu,us", "-o", "json", "--config", config)
			var list cli.StatusList
			if code != 0 || json.Unmarshal([]byte(stdout), &list) != nil {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			out := map[string]metrics.State{}
			for _, item := range list.Items {
				for _, m := range item.Metrics {
					out[item.Cluster+"/"+item.Name] = m.State
				}
			}
			return out, stderr
		}
		got, stderr := states()
		for _, k := range []string{"eu/orders-api", "us/orders-api", "eu/ledger-api"} {
			if s, ok := got[k]; !ok || s == metrics.StateUnreachable {
				t.Fatalf("%s: metrics %q (read: %v); stderr %s", k, s, got, stderr)
			}
		}
		// us's Prometheus goes away: us's numbers unreachable and said, eu's stay.
		us.StopPrometheus()
		t.Cleanup(func() { _ = us.StartPrometheus(context.Background()) })
		got, stderr = states()
		if got["us/orders-api"] != metrics.StateUnreachable || got["eu/orders-api"] == metrics.StateUnreachable || !strings.Contains(stderr, "context us: ") {
			t.Fatalf("with us's Prometheus down: %v\nstderr: %s", got, stderr)
		}
	})

	t.Run("guard over both halts the breach in its own cluster", func(t *testing.T) {
		started := time.Now()
		breachingCanary(t, ns, "pay-api")            // in eu only
		_, config := twoClusterKubeconfig(t, eu, us) // us's Prometheus was restarted
		g := guardProcess{startStreaming(t, true, kubeconfig, "guard", "--contexts", "eu,us", "-n", ns, "--config", config,
			"--metrics-interval", "2s", "--after", "2", "-o", "json")}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("guard log:\n%s", g.log())
			}
			_ = g.cmd.Process.Signal(syscall.SIGTERM)
		})
		g.waitLog(t, time.Minute, `"msg":"guard started`, `"context":"us"`)
		eventually(t, 3*time.Minute, "eu's pay-api halted by the guard", func(context.Context) error {
			if last, paused := lastActionOf(t, ns, "pay-api"); !paused || last.Action != intent.Halt {
				return errorf("paused %v, last action %+v", paused, last)
			}
			return nil
		})
		g.waitLog(t, time.Minute, `"action":"halt"`, `"rollout":"deployment/pay-api"`, `"context":"eu"`)
		if w := deploymentWrites(t, us, ns, started); len(w) != 0 {
			t.Errorf("the guard wrote on us's API server: %+v", w)
		}
	})

	t.Run("serve over both impersonates the key's user in each", func(t *testing.T) {
		dir := t.TempDir()
		bob, bobLine := sshKey(t, dir, "bob")
		const user = "bob@example.com"
		userWithRoleIn(t, eu, ns, user, editRollouts)
		userWithRoleIn(t, us, ns, user, editRollouts)
		jumpUser := "pyroll-jump-fleet"
		jumpKubeconfig := mergedKubeconfig(t, jumpIdentityIn(t, eu, jumpUser, []string{user}, nil), jumpIdentityIn(t, us, jumpUser, []string{user}, nil))
		keys := filepath.Join(dir, "authorized_keys")
		if err := os.WriteFile(keys, []byte(`pyroll-user="`+user+`",pyroll-write `+bobLine+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		j := startJumpHost(t, dir, jumpKubeconfig, ns, keys, "--allow-write", "--contexts", "eu,us")
		if out := strings.Join(j.proc.output(), "\n"); !strings.Contains(out, "contexts eu, us") {
			t.Errorf("serve's first line does not name both contexts:\n%s", out)
		}
		started := time.Now()
		pane := startTmux(t, 180, 30)
		j.typeSSH(pane, bob, nil)
		pane.waitScreen("both clusters' rows over SSH", func(s string) bool {
			return strings.Contains(s, "CONTEXT") && rowCount(s, "orders-api") == 2 && rowSays(s, "ledger-api", "eu") && strings.Contains(s, user)
		})
		pane.keys("/ledger")
		pane.key("Enter")
		pane.waitScreen("ledger-api alone", func(s string) bool { return rowCount(s, "orders-api") == 0 && rowSays(s, "ledger-api", "eu") })
		pane.keys("h")
		pane.waitScreen("the question names eu's cluster", containsAll("context eu (cluster eu-west-1): halt", "ledger-api"))
		pane.keys("y")
		waitPaused(t, eu, ns, "ledger-api")
		wantPatchAs(t, eu, started, ns, "deployments", "", jumpUser, user)
		j.waitAudit("the jump host's audit record names the context", func(r jumphost.Record) bool {
			return r.Event == "action" && r.Verb == "halt" && r.Name == "ledger-api" && r.Context == "eu" && r.Result == "ok"
		})
		if w := deploymentWrites(t, us, ns, started); len(w) != 0 {
			t.Errorf("writes on us's API server: %+v", w)
		}
		pane.keys("q")
	})

	t.Run("the console halts in the right cluster", func(t *testing.T) {
		started := time.Now()
		// eu's Prometheus only: us's rows say its metrics are off, eu's are read.
		euOnly := filepath.Join(t.TempDir(), "eu-only.yaml")
		if err := os.WriteFile(euOnly, []byte("contexts:\n  eu: {prometheus: {url: "+eu.PrometheusURL+"}}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		pane := startConsole(t, kubeconfig, "-n", ns, "--contexts", "eu,us", "--config", euOnly)
		pane.waitScreen("both clusters' rows, us's metrics off", func(s string) bool {
			us, eu := contextRow(s, "orders-api", "us"), contextRow(s, "orders-api", "eu")
			return strings.Contains(s, "CONTEXT") && rowCount(s, "orders-api") == 2 && rowSays(s, "ledger-api", "eu") && isLive(s) &&
				strings.Count(us, " off") == 2 && eu != "" && !strings.Contains(eu, " off")
		})
		// The filter matches the context: us's orders-api alone.
		pane.keys("/us")
		pane.key("Enter")
		pane.waitScreen("us's row alone", func(s string) bool {
			return rowCount(s, "orders-api") == 1 && rowSays(s, "orders-api", "us") && !strings.Contains(s, "ledger-api")
		})
		pane.keys("h")
		pane.waitScreen("the question names us's cluster", containsAll("context us (cluster us-east-1): halt", "orders-api"))
		pane.keys("y")
		waitPaused(t, us, ns, "orders-api")
		d, err := eu.Client().AppsV1().Deployments(ns).Get(context.Background(), "orders-api", metav1.GetOptions{})
		if err != nil || d.Spec.Paused {
			t.Fatalf("eu's orders-api: paused %v (%v): the halt went to the wrong cluster", d.Spec.Paused, err)
		}
		if n := len(deploymentWrites(t, us, ns, started)); n != 1 {
			t.Errorf("%d writes to Deployments on us's API server; want the one halt", n)
		}
		if w := deploymentWrites(t, eu, ns, started); len(w) != 0 {
			t.Errorf("writes on eu's API server: %+v", w)
		}

		// The header counts each context's rollouts; c puts one rollout's rows together.
		pane.key("Escape") // clears the filter (waited for: an esc followed at once by c reads as alt+c)
		pane.waitScreen("the filter cleared, the header's count per context", func(s string) bool {
			return !strings.Contains(s, `filter "us"`) && regexp.MustCompile(`eu/\S+ 3, us/\S+ 1`).MatchString(s)
		})
		pane.keys("c")
		pane.waitScreen("grouped", containsAll("each rollout's clusters together"))

		// us's API server goes away: us reconnecting, eu live, eu's rows still there.
		us.StopAPIServer()
		t.Cleanup(func() { _ = us.StartAPIServer(context.Background()) })
		pane.waitScreen("us reconnecting, eu live", func(s string) bool {
			return strings.Contains(s, "eu live") && regexp.MustCompile(`us reconnecting \d+s`).MatchString(s) && rowSays(s, "ledger-api", "eu")
		})
		// status: eu's rollouts printed, us told, exit 1.
		stdout, stderr, code := runPyroll(t, time.Minute, kubeconfig, "-n", ns, "status", "--contexts", "eu,us", "-o", "json", "--timeout", "20s")
		var list cli.StatusList
		if code != 1 || json.Unmarshal([]byte(stdout), &list) != nil || strings.Join(list.Contexts, ",") != "eu" || !strings.Contains(stderr, `(context "us")`) {
			t.Errorf("status with us down: exit %d, contexts %v\n%s\n%s", code, list.Contexts, stdout, stderr)
		}
	})
}

// contextRow is the list row of name in context.
func contextRow(screen, name, context string) string {
	for _, line := range strings.Split(screen, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == name && f[1] == context {
			return line
		}
	}
	return ""
}

// waitPaused waits until the Deployment ns/name on sb's cluster is paused.
func waitPaused(t *testing.T, sb *sandbox.Sandbox, ns, name string) {
	t.Helper()
	eventually(t, time.Minute, name+" paused", func(ctx context.Context) error {
		d, err := sb.Client().AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !d.Spec.Paused {
			return errorf("not paused yet")
		}
		return nil
	})
}

// rowCount is how many lines of the screen hold name.
func rowCount(screen, name string) int {
	n := 0
	for _, line := range strings.Split(screen, "\n") {
		if strings.Contains(line, name) {
			n++
		}
	}
	return n
}
