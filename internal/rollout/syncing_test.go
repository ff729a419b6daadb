package rollout_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// While the pods are still being read, the rows come from the rollouts' and ReplicaSets'
// status and no phase rests on pod state: a crash-looping, image-pull or OOMKilled canary,
// or one not ready past its grace, is not Degraded (nor Failed because of its pods) until
// every pod is read; what the status alone says (a progress deadline) still counts. Each
// fixture is built with its pods present (the worst case: some pods read) and marked as
// syncing, then again with the pods read.
func TestBuildClaimsNothingFromPodsWhileTheyAreSyncing(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		grace   time.Duration
		// synced is the phase once the pods are read; syncing the one before.
		synced, syncing rollout.Phase
	}{
		{"crashloop-canary", 0, rollout.PhaseDegraded, rollout.PhaseProgressing},
		{"image-pull-backoff", 0, rollout.PhaseDegraded, rollout.PhaseProgressing},
		{"oomkilled", 0, rollout.PhaseDegraded, rollout.PhaseProgressing},
		// Not ready past a grace of a second: Degraded by the clock, once pods are read.
		{"mid-rollout", time.Second, rollout.PhaseDegraded, rollout.PhaseProgressing},
		{"progress-deadline-exceeded", 0, rollout.PhaseFailed, rollout.PhaseFailed},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			objs, captured := loadFixture(t, tc.fixture)
			if tc.fixture == "mid-rollout" {
				makeCanaryUnready(objs, captured.Add(-time.Hour))
			}
			build := func(syncing bool) rollout.Rollout {
				b := rollout.NewBuilder()
				b.NotReadyGrace = tc.grace
				o := objs
				o.PodsSyncing = syncing
				rs := b.Build(o, captured)
				if len(rs) != 1 {
					t.Fatalf("%d rollouts, want 1", len(rs))
				}
				if syncing && !b.NextDeadline().IsZero() {
					t.Errorf("a deadline (%v) from pod state while the pods are syncing", b.NextDeadline())
				}
				return rs[0]
			}
			synced := build(false)
			if synced.Phase != tc.synced || synced.ReadingPods() {
				t.Fatalf("pods read: %s (%s), reading pods %v; want %s", synced.Phase, synced.Why, synced.ReadingPods(), tc.synced)
			}
			syncing := build(true)
			if syncing.Phase != tc.syncing {
				t.Errorf("pods syncing: %s (%s); want %s", syncing.Phase, syncing.Why, tc.syncing)
			}
			if strings.Contains(string(syncing.Why), "canary pods") {
				t.Errorf("pods syncing, the why rests on pods: %q", syncing.Why)
			}
			if !syncing.ReadingPods() || syncing.Replicas != synced.Replicas || syncing.CanaryRevision != synced.CanaryRevision || len(syncing.Revisions) != len(synced.Revisions) {
				t.Errorf("pods syncing: reading %v, replicas %+v rev %d (%d revisions); want reading, and what the status says: %+v rev %d (%d revisions)",
					syncing.ReadingPods(), syncing.Replicas, syncing.CanaryRevision, len(syncing.Revisions), synced.Replicas, synced.CanaryRevision, len(synced.Revisions))
			}
		})
	}
}

// An Argo Rollout whose canary pod crash-loops: Degraded once the pods are read, argo's own
// word (Paused at its step) while they are not; the step still shows.
func TestArgoClaimsNothingFromPodsWhileTheyAreSyncing(t *testing.T) {
	objs, _ := argoObjects()
	crashCanary(objs)
	objs.PodsSyncing = true
	r := buildOne(t, objs, ref.ArgoRollout)
	if r.Phase != rollout.PhasePaused || !r.ReadingPods() || r.Argo == nil || r.Argo.Step == "" {
		t.Errorf("pods syncing: %s (%s), reading pods %v, argo %+v; want Paused at its step, reading pods", r.Phase, r.Why, r.ReadingPods(), r.Argo)
	}
}
