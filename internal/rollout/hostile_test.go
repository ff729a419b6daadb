package rollout_test

import (
	"strings"
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/rollout/rollouttest"
	"github.com/pyroll/kubectl-pyroll/internal/testkit/hostile"
)

// Whatever anyone wrote into the objects, the views hold only text safe to print: every
// string field of every rollout, pod, event, revision, provenance and analysis.
func TestHostileObjectsBuildSafeViews(t *testing.T) {
	for name, objs := range map[string]rollout.Objects{
		"hostile":                 hostile.Objects(hostile.Hostile),
		"every string tainted":    hostile.Taint(hostile.Objects(hostile.Hostile)),
		"tainted, from the cache": rollouttest.Cached(hostile.Taint(hostile.Objects(hostile.Clean))),
	} {
		t.Run(name, func(t *testing.T) {
			built := rollout.Build(objs, hostile.Now)
			if len(built) != 2 {
				t.Fatalf("%d rollouts, want the Deployment and the Argo Rollout", len(built))
			}
			for _, p := range hostile.Problems(built, ".TerminationMessage") {
				t.Error(p)
			}
		})
	}
}

// The hostile objects say what the clean ones say, escaped: the canary still crash-loops
// with its Python exception, the images are still told apart.
func TestHostileObjectsStillReadTheSame(t *testing.T) {
	built := rollout.Build(hostile.Objects(hostile.Hostile), hostile.Now)
	var dep rollout.Rollout
	for _, r := range built {
		if r.Kind == "Deployment" {
			dep = r
		}
	}
	if dep.Phase != rollout.PhaseDegraded || !strings.Contains(string(dep.Why), `ModuleNotFoundError: No module named 'orjson\x1b]52;c;ZWNobyBwd25lZA==\x07\u202e'`) {
		t.Errorf("phase %s, why %q", dep.Phase, dep.Why)
	}
	canary, stable := dep.Canary(), dep.Stable()
	if canary == nil || stable == nil {
		t.Fatalf("canary %v stable %v", canary, stable)
	}
	if got := string(canary.Images[0]); got != `ghcr.io/acme/evil:2.0\x1b]52;c;ZWNobyBwd25lZA==\x07` {
		t.Errorf("canary image %q", got)
	}
	if got := string(stable.Images[0]); got != `ghcr.io/acme/evil:1.9\x1b[5m` {
		t.Errorf("stable image %q", got)
	}
	if len(dep.Name) != 253 || dep.Name != hostile.Deployment {
		t.Errorf("the name changed: %q", dep.Name)
	}
}

// A hostile rollout costs about what a clean one does: the 64 KiB annotations are read up
// to a line's length, not copied.
func TestHostileObjectsCostLikeCleanOnes(t *testing.T) {
	clean, bad := hostile.Objects(hostile.Clean), hostile.Objects(hostile.Hostile)
	cleanAllocs := testing.AllocsPerRun(5, func() { rollout.Build(clean, hostile.Now) })
	badAllocs := testing.AllocsPerRun(5, func() { rollout.Build(bad, hostile.Now) })
	if badAllocs > 2*cleanAllocs+200 {
		t.Errorf("Build of hostile objects: %.0f allocations, of clean ones %.0f", badAllocs, cleanAllocs)
	}
	cleanBytes, badBytes := hostile.BytesAllocated(func() { rollout.Build(clean, hostile.Now) }), hostile.BytesAllocated(func() { rollout.Build(bad, hostile.Now) })
	if badBytes > 2*cleanBytes+256<<10 {
		t.Errorf("Build of hostile objects allocates %d bytes, of clean ones %d", badBytes, cleanBytes)
	}
}
