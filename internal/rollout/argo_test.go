package rollout_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/rollout/rollouttest"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// The hashes rollouttest.SyntheticArgo gives its revisions.
const (
	stableHash = "5d4c3b2a1" // revision 1
	canaryHash = "9f8e7d6c5" // revision 2
)

var argoNow = rollouttest.Epoch.Add(time.Hour)

// argoObjects is one canary Rollout (team-0/checkout-000) paused at step 1 of 4 with five
// pods, one of them on the canary (20% of the available pods), and a background
// AnalysisRun of the canary revision.
func argoObjects() (rollout.Objects, *argo.Rollout) {
	objs := rollouttest.SyntheticArgo(1, 5)
	return objs, objs.Rollouts[0]
}

// buildOne builds objs and returns the one row of the given kind.
func buildOne(t *testing.T, objs rollout.Objects, kind ref.Kind) rollout.Rollout {
	t.Helper()
	var found []rollout.Rollout
	for _, r := range rollout.Build(objs, argoNow) {
		if r.Kind == kind {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d rows of kind %s, want 1: %+v", len(found), kind, found)
	}
	return found[0]
}

// roles maps each ReplicaSet's pod template hash to its role.
func roles(r rollout.Rollout) map[string]rollout.Role {
	out := map[string]rollout.Role{}
	for _, rev := range r.Revisions {
		out[rev.PodTemplateHash] = rev.Role
	}
	return out
}

func TestArgoCanaryPausedAtAStep(t *testing.T) {
	objs, _ := argoObjects()
	r := buildOne(t, objs, ref.ArgoRollout)
	if r.Phase != rollout.PhasePaused {
		t.Errorf("phase %s (%s), want Paused", r.Phase, r.Why)
	}
	if want := "paused at step 1/4 (weight 20%, actual 20%): promote to continue"; string(r.Why) != want {
		t.Errorf("why %q, want %q", r.Why, want)
	}
	if r.CanaryRevision != 2 || r.StableRevision != 1 {
		t.Errorf("canary %d stable %d, want 2 and 1", r.CanaryRevision, r.StableRevision)
	}
	if got := roles(r); got[canaryHash] != rollout.RoleCanary || got[stableHash] != rollout.RoleStable || len(got) != 2 {
		t.Errorf("roles %v, want %s canary and %s stable", got, canaryHash, stableHash)
	}
	if c, s := r.Canary(), r.Stable(); c == nil || s == nil || c.Number != 2 || s.Number != 1 || len(c.Pods) != 1 || len(s.Pods) != 4 {
		t.Errorf("canary %+v stable %+v", c, s)
	}
	if r.Halted() || r.Paused {
		t.Errorf("a rollout paused at a step is not halted: halted %v paused %v", r.Halted(), r.Paused)
	}
	a := r.Argo
	if a == nil {
		t.Fatal("no Argo view")
	}
	if a.Strategy != "canary" || a.Step != "1/4 20%" || a.StepIndex != 1 || a.StepCount != 4 || a.SetWeight != 20 || a.ActualWeight != 20 ||
		!a.WaitingForPromotion || a.Aborted || a.FullyPromoted || a.Phase != argo.PhasePaused {
		t.Errorf("argo view %+v", a)
	}
	if len(a.Steps) != 4 || !a.Steps[0].Done || !a.Steps[1].Current || a.Steps[1].Text != "pause" {
		t.Errorf("steps %+v", a.Steps)
	}
	if len(a.Analysis) != 1 {
		t.Fatalf("analysis %+v, want the one run of the canary revision", a.Analysis)
	}
	run := a.Analysis[0]
	if run.Name != "checkout-000-"+canaryHash+"-2" || run.Type != "Background" || run.Phase != argo.AnalysisRunning || len(run.Metrics) != 1 {
		t.Fatalf("analysis run %+v", run)
	}
	m := run.Metrics[0]
	if m.Name != "error-rate" || !slices.Equal(m.Values, []safetext.Text{"0.004", "0.006", "0.005"}) || m.SuccessCondition != "result[0] < 0.01" ||
		m.FailureLimit != 1 || m.Provider != "prometheus" || m.Count != 3 || m.Successful != 3 {
		t.Errorf("metric %+v", m)
	}
}

// spec.paused is someone's halt, whatever argo's phase.
func TestArgoSpecPausedIsHalted(t *testing.T) {
	objs, ro := argoObjects()
	ro.Spec.Paused = true
	r := buildOne(t, objs, ref.ArgoRollout)
	if r.Phase != rollout.PhaseHalted || !r.Paused || !strings.Contains(string(r.Why), "(spec.paused)") {
		t.Errorf("phase %s paused %v why %q; want Halted on spec.paused", r.Phase, r.Paused, r.Why)
	}
}

// An aborted rollout is Degraded with argo's own message, which names the failing metric.
func TestArgoAbortedIsDegradedWithArgosMessage(t *testing.T) {
	objs, ro := argoObjects()
	const message = `RolloutAborted: Rollout aborted update to revision 2: Metric "error-rate" assessed Failed due to failed (2) > failureLimit (1)`
	ro.Status.Abort = true
	ro.Status.AbortedAt = &metav1.Time{Time: rollouttest.Epoch.Add(30 * time.Minute)}
	ro.Status.PauseConditions, ro.Status.ControllerPause = nil, false
	ro.Status.CurrentStepIndex = new(int32) // argo's controller resets an aborted canary to step 0
	ro.Status.Conditions = []argo.RolloutCondition{{Type: argo.ConditionProgressing, Status: corev1.ConditionFalse, Reason: argo.ReasonRolloutAborted,
		Message: `Rollout aborted update to revision 2: Metric "error-rate" assessed Failed due to failed (2) > failureLimit (1)`}}
	ro.Status.Phase, ro.Status.Message = string(argo.PhaseDegraded), message
	r := buildOne(t, objs, ref.ArgoRollout)
	if want := message + ": retry (p) to roll out again, or undo (r)"; r.Phase != rollout.PhaseDegraded || string(r.Why) != want {
		t.Errorf("phase %s why %q; want Degraded, %q", r.Phase, r.Why, want)
	}
	if !r.Halted() || !r.Argo.Aborted || r.Argo.SetWeight != 0 {
		t.Errorf("halted %v aborted %v set weight %d; an aborted rollout is halted, its weight 0", r.Halted(), r.Argo.Aborted, r.Argo.SetWeight)
	}
}

func TestArgoProgressDeadlineIsFailed(t *testing.T) {
	objs, ro := argoObjects()
	const message = `ProgressDeadlineExceeded: ReplicaSet "checkout-000-9f8e7d6c5" has timed out progressing.`
	ro.Status.PauseConditions, ro.Status.ControllerPause = nil, false
	ro.Status.Conditions = []argo.RolloutCondition{{Type: argo.ConditionProgressing, Status: corev1.ConditionFalse, Reason: argo.ReasonProgressDeadline,
		Message: `ReplicaSet "checkout-000-9f8e7d6c5" has timed out progressing.`}}
	ro.Status.Phase, ro.Status.Message = string(argo.PhaseDegraded), message
	r := buildOne(t, objs, ref.ArgoRollout)
	if r.Phase != rollout.PhaseFailed || !strings.Contains(string(r.Why), message) {
		t.Errorf("phase %s why %q; want Failed with argo's message", r.Phase, r.Why)
	}
}

// Fully promoted, the current revision is argo's canary and stable at once (its
// status.stableRS is the current pod hash). Once the rollout is Complete it is the stable
// revision, as a completed Deployment's is (TestBuildOverCapturedRollouts): one rule for
// both kinds, so the detail does not call the only revision serving "canary" while the list
// says Complete. Until then (pods still failing after the promotion) it is still the
// revision being judged as the canary.
func TestArgoFullyPromotedIsStable(t *testing.T) {
	promote := func(ro *argo.Rollout) {
		ro.Status.StableRS = canaryHash
		ro.Status.CurrentStepIndex = ptr(int32(4))
		ro.Status.PauseConditions, ro.Status.ControllerPause = nil, false
		ro.Status.UpdatedReplicas = 5
		ro.Status.Phase, ro.Status.Message = string(argo.PhaseHealthy), ""
	}
	blueGreen := func(ro *argo.Rollout) {
		ro.Spec.Strategy = argo.RolloutStrategy{BlueGreen: &argo.BlueGreenStrategy{ActiveService: "checkout", PreviewService: "checkout-preview"}}
		ro.Status.CurrentStepIndex = nil
		ro.Status.PauseConditions, ro.Status.ControllerPause = nil, false
		ro.Status.StableRS = canaryHash
		ro.Status.BlueGreen = argo.BlueGreenStatus{ActiveSelector: canaryHash, PreviewSelector: canaryHash}
		ro.Status.Phase, ro.Status.Message = string(argo.PhaseHealthy), ""
	}
	cases := []struct {
		name           string
		change         func(objs rollout.Objects, ro *argo.Rollout)
		phase          rollout.Phase
		current        rollout.Role // the role of revision 2 (canaryHash)
		canary, stable int64
		label          string
	}{
		{"canary fully promoted", func(_ rollout.Objects, ro *argo.Rollout) { promote(ro) },
			rollout.PhaseComplete, rollout.RoleStable, 2, 2, "2"},
		{"blueGreen promoted", func(_ rollout.Objects, ro *argo.Rollout) { blueGreen(ro) },
			rollout.PhaseComplete, rollout.RoleActive, 2, 2, "2"},
		{"canary promoted, its pods crash", func(objs rollout.Objects, ro *argo.Rollout) { promote(ro); crashCanary(objs) },
			rollout.PhaseDegraded, rollout.RoleCanary, 2, 0, "2"},
		{"paused at a step", func(rollout.Objects, *argo.Rollout) {},
			rollout.PhasePaused, rollout.RoleCanary, 2, 1, "1→2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs, ro := argoObjects()
			c.change(objs, ro)
			r := buildOne(t, objs, ref.ArgoRollout)
			if r.Phase != c.phase {
				t.Errorf("phase %s (%s), want %s", r.Phase, r.Why, c.phase)
			}
			if r.CanaryRevision != c.canary || r.StableRevision != c.stable || r.RevisionLabel("→") != c.label {
				t.Errorf("canary %d stable %d label %q, want %d, %d, %q", r.CanaryRevision, r.StableRevision, r.RevisionLabel("→"), c.canary, c.stable, c.label)
			}
			wantOld := rollout.RoleOld
			if c.stable == 1 {
				wantOld = rollout.RoleStable
			}
			if got := roles(r); got[canaryHash] != c.current || got[stableHash] != wantOld {
				t.Errorf("roles %v, want %s %s and %s %s", got, canaryHash, c.current, stableHash, wantOld)
			}
			if cur := r.Current(); cur == nil || cur.Number != 2 {
				t.Errorf("current revision %+v, want revision 2", cur)
			}
			if settled := c.phase == rollout.PhaseComplete; r.Settled() != settled || (r.Canary() == nil) != settled {
				t.Errorf("settled %v, canary %+v; want settled %v and a canary only when not", r.Settled(), r.Canary(), settled)
			}
		})
	}
	objs, ro := argoObjects()
	promote(ro)
	if r := buildOne(t, objs, ref.ArgoRollout); !r.Argo.FullyPromoted || r.Argo.Step != "4/4 100%" {
		t.Errorf("fully promoted %v step %q", r.Argo.FullyPromoted, r.Argo.Step)
	}
}

func TestArgoBlueGreenRoles(t *testing.T) {
	objs, ro := argoObjects()
	ro.Spec.Strategy = argo.RolloutStrategy{BlueGreen: &argo.BlueGreenStrategy{ActiveService: "checkout", PreviewService: "checkout-preview"}}
	ro.Status.CurrentStepIndex = nil
	ro.Status.PauseConditions = []argo.PauseCondition{{Reason: argo.PauseReasonBlueGreenPause, StartTime: metav1.NewTime(rollouttest.Epoch)}}
	ro.Status.BlueGreen = argo.BlueGreenStatus{ActiveSelector: stableHash, PreviewSelector: canaryHash}
	ro.Status.Phase, ro.Status.Message = string(argo.PhasePaused), argo.PauseReasonBlueGreenPause
	r := buildOne(t, objs, ref.ArgoRollout)
	if got := roles(r); got[canaryHash] != rollout.RolePreview || got[stableHash] != rollout.RoleActive {
		t.Errorf("roles %v, want %s preview and %s active", got, canaryHash, stableHash)
	}
	c, s := r.Canary(), r.Stable()
	if c == nil || s == nil || c.Role != rollout.RolePreview || s.Role != rollout.RoleActive {
		t.Fatalf("Canary() %+v Stable() %+v; want the preview and the active revision", c, s)
	}
	if r.CanaryRevision != 2 || r.StableRevision != 1 || r.Argo.Strategy != "blueGreen" || r.Argo.Step != "" {
		t.Errorf("canary %d stable %d strategy %s step %q", r.CanaryRevision, r.StableRevision, r.Argo.Strategy, r.Argo.Step)
	}
	if r.Phase != rollout.PhasePaused || !strings.Contains(string(r.Why), "BlueGreenPause") {
		t.Errorf("phase %s why %q; want Paused on the BlueGreenPause", r.Phase, r.Why)
	}
}

// workloadDeployment is a Deployment named name in ns, scaled to zero as argo leaves the
// Deployment a workloadRef Rollout takes its template from.
func workloadDeployment(ns, name string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID(ns + "/deployment/" + name), Generation: 1},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr(int32(0)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: 1},
	}
}

func TestArgoWorkloadRefHidesItsDeploymentOnly(t *testing.T) {
	objs, ro := argoObjects()
	ro.Spec.WorkloadRef = &argo.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "checkout-src"}
	ro.Spec.Template = corev1.PodTemplateSpec{}
	objs.Deployments = append(objs.Deployments, workloadDeployment(ro.Namespace, "checkout-src"), workloadDeployment("other-team", "checkout-src"))
	rows := rollout.Build(objs, argoNow)
	var got []string
	for _, r := range rows {
		got = append(got, string(r.Kind)+" "+r.Namespace+"/"+r.Name)
	}
	slices.Sort(got)
	want := []string{"Deployment other-team/checkout-src", "Rollout team-0/checkout-000"}
	if !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v: the referenced Deployment hidden, its namesake in another namespace shown", got, want)
	}
	if r := buildOne(t, objs, ref.ArgoRollout); r.Argo.WorkloadRef != "deployment/checkout-src" {
		t.Errorf("workloadRef %q", r.Argo.WorkloadRef)
	}
}

// A Rollout and a Deployment of the same name in one namespace are two rollouts, told
// apart by their kind.
func TestArgoRolloutAndDeploymentOfOneName(t *testing.T) {
	objs, ro := argoObjects()
	deps := rollouttest.Synthetic(1, 3)
	for _, d := range deps.Deployments {
		d.Name = ro.Name // same namespace (team-0), same name, another object
	}
	objs.Deployments, objs.ReplicaSets, objs.Pods = deps.Deployments, append(objs.ReplicaSets, deps.ReplicaSets...), append(objs.Pods, deps.Pods...)
	rows := rollout.Build(objs, argoNow)
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	if rows[0].Ref() == rows[1].Ref() || rows[0].Name != rows[1].Name || rows[0].Namespace != rows[1].Namespace {
		t.Errorf("rows %v and %v; want one name, two kinds", rows[0].Ref(), rows[1].Ref())
	}
	d, r := buildOne(t, objs, ref.Deployment), buildOne(t, objs, ref.ArgoRollout)
	if d.Argo != nil || r.Argo == nil || len(d.Revisions) != 2 || len(r.Revisions) != 2 || d.Revisions[0].ReplicaSet == r.Revisions[0].ReplicaSet {
		t.Errorf("each row must hold its own revisions: deployment %+v, rollout %+v", d.Revisions, r.Revisions)
	}
}

// AnalysisRuns of the same revision hash owned by another Rollout are not this one's.
func TestArgoAnalysisRunsOfAnotherOwnerAreNotAttached(t *testing.T) {
	objs, ro := argoObjects()
	other := rollouttest.ArgoRollout(ro.Namespace, "payments", 2)
	objs.AnalysisRuns = append(objs.AnalysisRuns, rollouttest.AnalysisRun(other, canaryHash, argo.AnalysisFailed, "[0.5]"))
	r := buildOne(t, objs, ref.ArgoRollout)
	if len(r.Argo.Analysis) != 1 || r.Argo.Analysis[0].Name != ro.Name+"-"+canaryHash+"-2" {
		t.Errorf("analysis %+v; want only the rollout's own run", r.Argo.Analysis)
	}
}

// crashCanary makes the pod of the canary revision crash-loop.
func crashCanary(objs rollout.Objects) {
	var canary *appsv1.ReplicaSet
	for _, rs := range objs.ReplicaSets {
		if rs.Labels[argo.PodTemplateHashLabel] == canaryHash {
			canary = rs
		}
	}
	for i, p := range objs.Pods {
		if metav1.GetControllerOfNoCopy(p).UID == canary.UID {
			objs.Pods[i] = rollouttest.Pod(canary, 0, true)
		}
	}
}

const crashLooping = "1/1 canary pods CrashLoopBackOff: ModuleNotFoundError: No module named 'orjson'"

func TestArgoFailingCanaryPodsAreDegraded(t *testing.T) {
	objs, _ := argoObjects()
	crashCanary(objs)
	r := buildOne(t, objs, ref.ArgoRollout)
	if r.Phase != rollout.PhaseDegraded || r.Why != crashLooping {
		t.Errorf("phase %s why %q; want Degraded, %q", r.Phase, r.Why, crashLooping)
	}
}

// A settled blueGreen (the active and the preview service on the current revision) whose
// pods crash is Degraded, as a settled canary or Deployment is: the current revision's
// pods are judged even though its role is "active".
func TestArgoSettledBlueGreenWithFailingPodsIsDegraded(t *testing.T) {
	objs, ro := argoObjects()
	crashCanary(objs)
	ro.Spec.Strategy = argo.RolloutStrategy{BlueGreen: &argo.BlueGreenStrategy{ActiveService: "checkout", PreviewService: "checkout-preview"}}
	ro.Status.CurrentStepIndex = nil
	ro.Status.PauseConditions, ro.Status.ControllerPause = nil, false
	ro.Status.StableRS = canaryHash
	ro.Status.BlueGreen = argo.BlueGreenStatus{ActiveSelector: canaryHash, PreviewSelector: canaryHash}
	ro.Status.AvailableReplicas, ro.Status.ReadyReplicas = 4, 4
	ro.Status.Phase, ro.Status.Message = string(argo.PhaseProgressing), "updated replicas are still becoming available"
	r := buildOne(t, objs, ref.ArgoRollout)
	if got := roles(r); got[canaryHash] != rollout.RoleActive || r.CanaryRevision != 2 {
		t.Errorf("roles %v canary revision %d; want %s active, revision 2", got, r.CanaryRevision, canaryHash)
	}
	if r.Phase != rollout.PhaseDegraded || r.Why != crashLooping {
		t.Errorf("phase %s why %q; want Degraded, %q", r.Phase, r.Why, crashLooping)
	}
}

func ptr[T any](v T) *T { return &v }
