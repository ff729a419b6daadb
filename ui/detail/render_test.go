package detail

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/rollout/rollouttest"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// The snapshot's Warnings slice has spare capacity (the Builder reuses its backing
// array): rendering a python_info warning must not write into it.
func TestRenderDoesNotWriteIntoTheSnapshotsWarnings(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	warnings := make([]safetext.Text, 1, 4)
	warnings[0] = "tag 1.8.0 runs two digests"
	r := rollout.Rollout{Kind: ref.Deployment, Namespace: "demo", Name: "orders-api", CanaryRevision: 2,
		Revisions: []rollout.Revision{{Number: 2, Role: rollout.RoleCanary, Pods: []*rollout.Pod{{Name: "orders-api-a", Ready: true}},
			Provenance: provenance.Provenance{GitSHA: "3f2a9c1b7e5d", Python: "3.11.10", Warnings: warnings}}}}
	report := metrics.Report{At: now, Revisions: map[metrics.Key]metrics.Revision{
		metrics.KeyOf(&r, 2): {State: metrics.StateOK, Python: "3.11.2"},
	}}
	for range 2 {
		got := ansi.Strip(Render(styles.New(styles.Options{}), Input{Rollout: r, Verdicts: guard.JudgeRound([]rollout.Rollout{r}, report, guard.Thresholds{}), Now: now}, 120))
		if strings.Count(got, "runs Python 3.11.2") != 1 || !strings.Contains(got, "tag 1.8.0 runs two digests") {
			t.Errorf("the page should warn once about the tag and once about python_info:\n%s", got)
		}
	}
	if spare := warnings[:2][1]; spare != "" {
		t.Errorf("Render wrote %q into the snapshot's Warnings backing array", spare)
	}
}

// After a full promotion an Argo Rollout is Complete and its only revision serving is the
// stable one, as a completed Deployment's is: REVISIONS, PODS, METRICS and PROVENANCE say
// "stable", never "canary", and the guard's verdict stands beside it (issue 25, item 4).
func TestFullyPromotedArgoRolloutReadsStable(t *testing.T) {
	objs := rollouttest.SyntheticArgo(1, 5)
	ro := objs.Rollouts[0]
	ro.Status.StableRS = ro.Status.CurrentPodHash
	ro.Status.CurrentStepIndex = new(int32)
	*ro.Status.CurrentStepIndex = 4
	ro.Status.PauseConditions, ro.Status.ControllerPause = nil, false
	ro.Status.UpdatedReplicas = 5
	ro.Status.Phase, ro.Status.Message = string(argo.PhaseHealthy), ""
	objs.Pods = nil
	for _, rs := range objs.ReplicaSets {
		replicas := int32(0)
		if rs.Labels[argo.PodTemplateHashLabel] == ro.Status.CurrentPodHash {
			replicas = 5
			for i := range 5 {
				objs.Pods = append(objs.Pods, rollouttest.Pod(rs, i, false))
			}
		}
		rs.Spec.Replicas, rs.Status.Replicas, rs.Status.ReadyReplicas, rs.Status.AvailableReplicas = &replicas, replicas, replicas, replicas
	}
	now := rollouttest.Epoch.Add(time.Hour)
	built := rollout.Build(objs, now)
	if len(built) != 1 || built[0].Phase != rollout.PhaseComplete {
		t.Fatalf("built %+v; want one Complete rollout", built)
	}
	r := built[0]
	report := metrics.Report{At: now, Revisions: map[metrics.Key]metrics.Revision{
		metrics.KeyOf(&r, 2): {State: metrics.StateOK, ErrorRate: 0.001, RequestRate: 10},
	}}
	verdicts := guard.JudgeRound(built, report, guard.Thresholds{MaxErrorRate: 0.01})
	got := ansi.Strip(Render(styles.New(styles.Options{}), Input{Rollout: r, Verdicts: verdicts, Now: now}, 120))
	lines := strings.Split(got, "\n")
	has := func(prefix, part string) bool {
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) && strings.Contains(l, part) {
				return true
			}
		}
		return false
	}
	for _, want := range []struct{ prefix, part string }{
		{"  2    stable", "5/5"},            // REVISIONS
		{"  revision 2 (stable)", ""},       // PODS
		{"  rev 2   stable", "OK"},          // METRICS, with the verdict
		{"  rev 2   stable", "sha 9f8e7d6"}, // PROVENANCE
	} {
		if !has(want.prefix, want.part) {
			t.Errorf("no line %q...%q:\n%s", want.prefix, want.part, got)
		}
	}
	// (STEPS names the strategy, "canary": that stays.)
	if has("  2    canary", "") || has("  revision 2 (canary)", "") || has("  rev 2   canary", "") {
		t.Errorf("a fully promoted rollout's page calls revision 2 the canary:\n%s", got)
	}
}

// The detail of a release in its bake window shows the window and the before-release
// baseline it is compared with.
func TestBakingReleaseShowsItsWindowAndBaseline(t *testing.T) {
	completed := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	r := rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "cart-api", Phase: rollout.PhaseBaking, CanaryRevision: 5, StableRevision: 5,
		Revisions: []rollout.Revision{{Number: 5, Role: rollout.RoleStable}, {Number: 4, Role: rollout.RoleOld}},
		Bake:      &rollout.Bake{Time: 15 * time.Minute, ReleasedAt: completed.Add(-time.Minute), CompletedAt: completed, Until: completed.Add(15 * time.Minute), Previous: 4, PreviousReplicaSet: "cart-api-44"}}
	now := completed.Add(4 * time.Minute)
	report := metrics.Report{At: now, Revisions: map[metrics.Key]metrics.Revision{metrics.KeyOf(&r, 5): {State: metrics.StateOK, ErrorRate: 0.081, RequestRate: 10}},
		Baselines: map[ref.Rollout]metrics.Baseline{r.Ref(): {Revision: 4, ReplicaSet: "cart-api-44", From: r.Bake.ReleasedAt.Add(-10 * time.Minute), To: r.Bake.ReleasedAt,
			State: metrics.StateOK, ErrorRate: 0.002, RequestRate: 12, P95: 180 * time.Millisecond}}}
	got := ansi.Strip(Render(styles.New(styles.Options{}), Input{Rollout: r, Verdicts: guard.JudgeRound([]rollout.Rollout{r}, report, guard.Thresholds{}), Now: now}, 120))
	for _, want := range []string{"bake window 4m/15m", "completed 4m ago", "before the release: rev 4 0.2% errors, p95 180ms at 12.0 req/s over the 10 min before it"} {
		if !strings.Contains(got, want) {
			t.Errorf("detail lacks %q:\n%s", want, got)
		}
	}
	r.Bake.Previous = 0
	if got := ansi.Strip(Render(styles.New(styles.Options{}), Input{Rollout: r, Now: now}, 120)); !strings.Contains(got, "nothing to roll back to") {
		t.Errorf("without a previous revision:\n%s", got)
	}
}

// With several clusters in view the page says whose rollout it is; with one, nothing more.
func TestDetailNamesTheContext(t *testing.T) {
	r := rollout.Rollout{Cluster: "prod-us", Kind: ref.Deployment, Namespace: "shop", Name: "orders-api", Phase: rollout.PhaseComplete}
	first := func(r rollout.Rollout) string {
		return strings.SplitN(ansi.Strip(Render(styles.New(styles.Options{}), Input{Rollout: r, Now: rollouttest.Epoch}, 120)), "\n", 2)[0]
	}
	if got := first(r); !strings.Contains(got, "context prod-us") || !strings.Contains(got, "shop") {
		t.Errorf("several clusters: %q", got)
	}
	r.Cluster = ""
	if got := first(r); strings.Contains(got, "context") {
		t.Errorf("one cluster: %q", got)
	}
}
