//go:build e2e

// kubectl-pyroll on Argo Rollouts, against the sandbox's real rollouts-controller: status,
// the actions (abort, promote, retry, full promote, undo) from the command line and the
// console, analysis values, RBAC, the audit log, and a cluster without the CRDs.

package e2e

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/auditlog"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/demo"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

const checkout = "checkout-api"

// statusJSON is `status -o json`'s one rollout, read back through the product's own types.
func statusJSON(t *testing.T, kubeconfig, ns string, args ...string) rollout.Rollout {
	t.Helper()
	stdout, stderr, code := runPyroll(t, time.Minute, kubeconfig, append([]string{"-n", ns, "status", "-o", "json"}, args...)...)
	if code == 2 || stdout == "" {
		t.Fatalf("status -o json: exit %d\n%s%s", code, stdout, stderr)
	}
	var list struct {
		Items []rollout.Rollout `json:"items"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, stdout)
	}
	if len(list.Items) != 1 {
		t.Fatalf("status -o json %v: %d items, want 1\n%s", args, len(list.Items), stdout)
	}
	return list.Items[0]
}

// waitStatus polls `status -o json rollout/NAME` until cond holds.
func waitStatus(t *testing.T, kubeconfig, ns string, timeout time.Duration, what string, cond func(rollout.Rollout) error) rollout.Rollout {
	t.Helper()
	var last rollout.Rollout
	eventually(t, timeout, what, func(context.Context) error {
		last = statusJSON(t, kubeconfig, ns, "rollout/"+checkout)
		return cond(last)
	})
	return last
}

func rolloutState(t *testing.T, ns string) workload.RolloutState {
	t.Helper()
	u, err := sandboxtest.Get(t).Dynamic().Resource(workload.RolloutsResource).Namespace(ns).Get(context.Background(), checkout, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := workload.ReadRolloutState(u)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// statusPatches are the PATCH requests on rollouts/status in ns since then, by user.
func statusPatches(t *testing.T, ns string, since time.Time) []auditlog.Request {
	t.Helper()
	reqs, err := auditlog.Read(sandboxtest.Get(t).AuditLogPath(), since, func(r auditlog.Request) bool {
		return r.Verb == "patch" && r.Resource == "rollouts" && r.Subresource == "status" && r.Namespace == ns && strings.HasPrefix(r.UserAgent, "kubectl-pyroll")
	})
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}

func lastAction(t *testing.T, ns string) intent.LastAction {
	t.Helper()
	u, err := sandboxtest.Get(t).Dynamic().Resource(workload.RolloutsResource).Namespace(ns).Get(context.Background(), checkout, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var a intent.LastAction
	if raw := u.GetAnnotations()[intent.LastActionAnnotation]; json.Unmarshal([]byte(raw), &a) != nil {
		t.Fatalf("no readable %s on the Rollout: %q", intent.LastActionAnnotation, raw)
	}
	return a
}

// The demo's checkout-api, mid-canary: status reads it as argo does; abort, a promote that
// is a retry, promote, and undo each do what they say, with status-subresource writes the
// API server's audit log shows.
func TestArgoStatusAbortRetryPromoteAndUndo(t *testing.T) {
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	ns := newNamespace(t)
	if err := demo.SeedCheckoutIn(ctx, sb, ns); err != nil {
		t.Fatal(err)
	}
	started := time.Now()

	// Paused at step 1/4, weight 20, 1 of 5 pods on rev 2, rev 1 stable.
	r := waitStatus(t, sb.Kubeconfig, ns, time.Minute, "checkout-api paused at step 1 with its canary pod ready", func(r rollout.Rollout) error {
		if r.Kind != "Rollout" || r.Phase != rollout.PhasePaused || r.Argo == nil || r.Argo.StepIndex != 1 || r.Argo.ActualWeight != 20 {
			return errorf("%s %s %+v", r.Kind, r.Phase, r.Argo)
		}
		return nil
	})
	if r.Argo.StepCount != 4 || r.Argo.SetWeight != 20 || r.CanaryRevision != 2 || r.StableRevision != 1 || r.Argo.Step != "1/4 20%" {
		t.Errorf("status: step %d/%d set %d actual %d, rev %d canary / %d stable, STEP %q; want 1/4, 20, 20, 2/1, \"1/4 20%%\"",
			r.Argo.StepIndex, r.Argo.StepCount, r.Argo.SetWeight, r.Argo.ActualWeight, r.CanaryRevision, r.StableRevision, r.Argo.Step)
	}
	if canary := r.Canary(); canary == nil || len(canary.Pods) != 1 || string(canary.Provenance.Version) != demo.CheckoutV2.Version {
		t.Errorf("canary revision %+v; want 1 pod of %s", canary, demo.CheckoutV2.Version)
	}
	if !strings.Contains(string(r.Why), "paused at step 1/4 (weight 20%, actual 20%): promote to continue") {
		t.Errorf("why %q", r.Why)
	}
	table, _, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "status", checkout)
	if code != 0 || !strings.Contains(table, "Paused") || !strings.Contains(table, "1→2") {
		t.Errorf("status %s: exit %d\n%s", checkout, code, table)
	}

	// What changed between the stable and the canary, by argo's revision numbers.
	diff, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "diff", "rollout/"+checkout)
	if code != 0 || !strings.Contains(diff, demo.CheckoutV1.Version) || !strings.Contains(diff, demo.CheckoutV2.Version) {
		t.Errorf("diff rollout/%s: exit %d; want %s against %s\n%s%s", checkout, code, demo.CheckoutV1.Version, demo.CheckoutV2.Version, diff, stderr)
	}

	// h: abort, at once, on the status subresource.
	stdout, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "halt", "rollout/"+checkout, "--reason", "canary looks wrong")
	if code != 0 || !strings.Contains(stdout, "aborted "+checkout) {
		t.Fatalf("halt rollout/: exit %d\n%s%s", code, stdout, stderr)
	}
	waitStatus(t, sb.Kubeconfig, ns, time.Minute, "Degraded by the abort", func(r rollout.Rollout) error {
		if r.Phase != rollout.PhaseDegraded || !r.Argo.Aborted {
			return errorf("%s aborted=%v: %s", r.Phase, r.Argo.Aborted, r.Why)
		}
		return nil
	})
	if a := lastAction(t, ns); a.Action != intent.Halt || a.Reason != "canary looks wrong" {
		t.Errorf("last action %+v", a)
	}

	// promote on the aborted rollout is a retry: refused off a terminal without --yes, then done.
	stdout, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "promote", "rollout/"+checkout)
	if code != 2 || !strings.Contains(stderr, "was aborted") || !strings.Contains(stderr, "--yes") {
		t.Fatalf("promote of an aborted rollout without --yes: exit %d; want 2 saying it is a retry\n%s%s", code, stdout, stderr)
	}
	if !rolloutState(t, ns).Status.Abort {
		t.Fatalf("the refused retry changed the rollout")
	}
	stdout, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "promote", "rollout/"+checkout, "--yes")
	if code != 0 || !strings.Contains(stdout, "retried "+checkout) {
		t.Fatalf("promote --yes of an aborted rollout: exit %d\n%s%s", code, stdout, stderr)
	}
	waitStatus(t, sb.Kubeconfig, ns, 2*time.Minute, "back at the pause after the retry", func(r rollout.Rollout) error {
		if r.Phase != rollout.PhasePaused || r.Argo.Aborted || r.Argo.StepIndex != 1 {
			return errorf("%s step %d aborted=%v: %s", r.Phase, r.Argo.StepIndex, r.Argo.Aborted, r.Why)
		}
		return nil
	})

	// promote: past the indefinite pause to the timed one, then Complete.
	stdout, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "promote", "rollout/"+checkout)
	if code != 0 || !strings.Contains(stdout, "promoted "+checkout) {
		t.Fatalf("promote rollout/: exit %d\n%s%s", code, stdout, stderr)
	}
	waitStatus(t, sb.Kubeconfig, ns, 2*time.Minute, "at step 3/4 (the 30s pause)", func(r rollout.Rollout) error {
		if r.Argo.StepIndex != 3 {
			return errorf("step %d: %s %s", r.Argo.StepIndex, r.Phase, r.Why)
		}
		return nil
	})
	r = waitStatus(t, sb.Kubeconfig, ns, 2*time.Minute, "Complete after the timed pause", func(r rollout.Rollout) error {
		if r.Phase != rollout.PhaseComplete || r.CanaryRevision != 2 {
			return errorf("%s rev %d: %s", r.Phase, r.CanaryRevision, r.Why)
		}
		return nil
	})
	// Complete, revision 2 is the stable one, as a completed Deployment's current revision
	// is: no canary left (issue 25, item 4).
	if s := r.Stable(); r.StableRevision != 2 || r.Canary() != nil || s == nil || s.Number != 2 || s.Role != rollout.RoleStable {
		t.Errorf("complete: stable rev %d, Stable() %+v, Canary() %+v; want revision 2 stable and no canary", r.StableRevision, s, r.Canary())
	}

	// Each of abort, retry and promote patched rollouts/status, as the audit log shows.
	if n := len(statusPatches(t, ns, started)); n < 3 {
		t.Errorf("%d PATCHes of rollouts/status by kubectl-pyroll; want one each for abort, retry, promote", n)
	}

	// undo: rev 1's template back, as a new revision 3 (through the steps again).
	stdout, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", ns, "rollback", "rollout/"+checkout, "--yes", "--reason", "back to 4.1.0")
	if code != 0 || !strings.Contains(stdout, "undid "+checkout) || !strings.Contains(stdout, "to rev 1") {
		t.Fatalf("rollback rollout/: exit %d\n%s%s", code, stdout, stderr)
	}
	r = waitStatus(t, sb.Kubeconfig, ns, time.Minute, "revision 3 rolling out rev 1's build", func(r rollout.Rollout) error {
		if r.CanaryRevision != 3 {
			return errorf("canary rev %d: %s %s", r.CanaryRevision, r.Phase, r.Why)
		}
		return nil
	})
	if c := r.Canary(); c == nil || len(c.Images) == 0 || string(c.Images[0]) != demo.CheckoutV1.Image {
		t.Errorf("revision 3 runs %+v; want %s", c, demo.CheckoutV1.Image)
	}
	if a := lastAction(t, ns); a.Action != intent.Rollback || a.To != 1 {
		t.Errorf("last action after undo %+v", a)
	}
}

// A release whose canary errs is aborted by Argo's own analysis, measured by the sandbox's
// Prometheus; the console (80x24, tmux) shows the measured value against the condition,
// and p on the aborted rollout offers the retry, which y carries out.
// analysisValue is the first measured value of the error-rate metric on the detail.
var analysisValue = regexp.MustCompile(`error-rate: ([-0-9.e+]+)`)

func TestArgoConsoleShowsFailedAnalysisAndRetries(t *testing.T) {
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	ns := newNamespace(t)
	if err := demo.InstallCheckoutAnalysis(ctx, sb, ns); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.ApplyCheckout(ctx, sb.Dynamic(), demo.CheckoutV1.In(ns)); err != nil {
		t.Fatal(err)
	}
	if _, err := workload.WaitRollout(ctx, sb.Dynamic(), ns, checkout, 2*time.Minute, "healthy", workload.RolloutState.Healthy); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.ApplyCheckout(ctx, sb.Dynamic(), demo.CheckoutBad.In(ns)); err != nil {
		t.Fatal(err)
	}
	r := waitStatus(t, sb.Kubeconfig, ns, 3*time.Minute, "aborted by the analysis", func(r rollout.Rollout) error {
		if !r.Argo.Aborted || len(r.Argo.Analysis) == 0 {
			return errorf("%s aborted=%v, %d analysis runs: %s", r.Phase, r.Argo.Aborted, len(r.Argo.Analysis), r.Why)
		}
		return nil
	})
	if r.Phase != rollout.PhaseDegraded || !strings.Contains(string(r.Why), "error-rate") {
		t.Errorf("aborted by analysis: %s %q; want Degraded naming the error-rate metric", r.Phase, r.Why)
	}
	metric := r.Argo.Analysis[0].Metrics[0]
	if metric.Name != "error-rate" || metric.Failed < 2 || len(metric.Values) == 0 || metric.SuccessCondition == "" {
		t.Fatalf("analysis metric %+v; want error-rate failed twice with its values and condition", metric)
	}

	pane := startTmux(t, 80, 24)
	pane.keys(pyrollBinary() + " --kubeconfig " + sb.Kubeconfig + " -n " + ns + "; echo CONSOLE-EXITED-$?")
	pane.key("Enter")
	pane.waitScreen("checkout-api Degraded", func(s string) bool { return strings.Contains(rowOf(s, checkout), "Degraded") })
	pane.key("Enter")
	screen := pane.waitScreen("the analysis with its measured value and condition",
		flowing(containsAll("ANALYSIS", "error-rate: ", "fails `", "failureLimit 1", "aborted here")))
	// argo stores Go's shortest float ("0.045454545454545456"): the console shows 3 digits.
	if m := analysisValue.FindStringSubmatch(strings.Join(strings.Fields(screen), " ")); m == nil {
		t.Errorf("no measured value after error-rate:\n%s", screen)
	} else if digits := strings.TrimLeft(strings.NewReplacer(".", "", "-", "").Replace(strings.Split(m[1], "e")[0]), "0"); len(digits) > 3 {
		t.Errorf("analysis value %q has more than 3 significant digits:\n%s", m[1], screen)
	}
	before := time.Now()
	pane.keys("p")
	pane.waitScreen("the retry offered", containsAll("was aborted", "retry", "y/n"))
	pane.keys("y")
	pane.waitScreen("the retry done", containsAll("retried "+checkout))
	if a := lastAction(t, ns); a.Action != intent.Retry {
		t.Errorf("last action %+v; want retry", a)
	}
	if len(statusPatches(t, ns, before)) == 0 {
		t.Errorf("no PATCH of rollouts/status for the retry in the audit log")
	}
	// The retried canary comes back (its analysis will abort it again: it still errs).
	eventually(t, time.Minute, "the canary rolled out again", func(context.Context) error {
		if s := rolloutState(t, ns); s.Status.Abort {
			return errorf("still aborted: %s", s)
		}
		return nil
	})
	pane.keys("q")
	pane.waitScreen("the shell again", containsAll("CONSOLE-EXITED-0"))
}

// A viewer (get, list, watch) sees checkout-api and its steps; every action is refused
// with the reason, from the console and the command line, and nothing changes.
func TestArgoViewerIsRefusedEveryAction(t *testing.T) {
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	ns := newNamespace(t)
	if err := demo.SeedCheckoutIn(ctx, sb, ns); err != nil {
		t.Fatal(err)
	}
	read := []string{"get", "list", "watch"}
	kubeconfig := userWithRole(t, ns, "argo-viewer", []rbacv1.PolicyRule{
		{APIGroups: []string{"apps"}, Resources: []string{"deployments", "replicasets"}, Verbs: read},
		{APIGroups: []string{""}, Resources: []string{"pods", "events"}, Verbs: read},
		{APIGroups: []string{"argoproj.io"}, Resources: []string{"rollouts", "analysisruns"}, Verbs: read},
	})
	before := rolloutState(t, ns)
	for _, args := range [][]string{{"halt"}, {"promote"}, {"promote", "--full"}, {"rollback", "--yes"}} {
		cmd := append(append([]string{"-n", ns}, args...), "rollout/"+checkout)
		stdout, stderr, code := runPyroll(t, time.Minute, kubeconfig, cmd...)
		if code != 1 || !strings.Contains(stderr, "forbidden") {
			t.Errorf("%v as a viewer: exit %d; want 1, forbidden\n%s%s", args, code, stdout, stderr)
		}
	}
	pane := startTmux(t, 80, 24)
	pane.keys(pyrollBinary() + " --kubeconfig " + kubeconfig + " -n " + ns)
	pane.key("Enter")
	pane.waitScreen("the rollout with its actions off", containsAll(checkout, "Paused", "actions off: forbidden"))
	pane.keys("h")
	pane.waitScreen("abort refused", containsAll("abort not available: forbidden"))
	pane.keys("P")
	pane.waitScreen("full promote refused", containsAll("full promote not available: forbidden"))
	// The controller writes its status now and then; what a person's action would change
	// is the spec (generation), the abort, the pause, and our audit annotation.
	after := rolloutState(t, ns)
	if after.Generation != before.Generation || after.Status.Abort || !after.PausedAtStep(demo.CheckoutPauseStep) {
		t.Errorf("the Rollout changed though every action was refused: %s -> %s", before, after)
	}
	u, err := sb.Dynamic().Resource(workload.RolloutsResource).Namespace(ns).Get(ctx, checkout, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := u.GetAnnotations()[intent.LastActionAnnotation]; ok {
		t.Errorf("a refused action left an audit record: %s", a)
	}
}

// On a cluster without Argo Rollouts' CRDs, everything is as before: status lists the
// Deployments with nothing on stderr, the console goes live, and the only Argo request
// is the discovery that found nothing.
func TestArgoAbsentClusterBehavesAsBefore(t *testing.T) {
	sb := sandboxtest.Start(t, sandbox.Options{NoArgo: true, Nodes: 1})
	ctx := context.Background()
	if err := demo.SeedIn(ctx, sb.Client(), "demo"); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	stdout, stderr, code := runPyroll(t, time.Minute, sb.Kubeconfig, "-n", "demo", "status")
	if code != 1 || stderr != "" {
		t.Errorf("status: exit %d (want 1: search-api is Degraded), stderr %q", code, stderr)
	}
	for _, name := range []string{"payments-api", "orders-api", "search-api"} {
		if !strings.Contains(stdout, name) {
			t.Errorf("status lacks %s:\n%s", name, stdout)
		}
	}
	_, stderr, code = runPyroll(t, time.Minute, sb.Kubeconfig, "-n", "demo", "status", "rollout/checkout-api")
	if code != 1 || !strings.Contains(stderr, `no Argo Rollout named "checkout-api"`) {
		t.Errorf("status rollout/checkout-api without Argo: exit %d %q; want 1, no such Argo Rollout", code, stderr)
	}
	pane := startTmux(t, 80, 24)
	pane.keys(pyrollBinary() + " --kubeconfig " + sb.Kubeconfig + " -n demo")
	pane.key("Enter")
	pane.waitScreen("the console live", containsAll("live", "search-api", "GUARD"))
	if strings.Contains(pane.screen(), "STEP") {
		t.Errorf("a STEP column without any Argo Rollout:\n%s", pane.screen())
	}
	pane.keys("q")
	reqs, err := auditlog.Read(sb.AuditLogPath(), started, func(r auditlog.Request) bool {
		return strings.HasPrefix(r.UserAgent, "kubectl-pyroll") && (r.Resource == "rollouts" || r.Resource == "analysisruns")
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		if r.Verb == "list" || r.Verb == "watch" {
			t.Errorf("a %s of %s on a cluster without Argo: %s", r.Verb, r.Resource, r.URI)
		}
	}
}
