package rollout_test

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// loadFixture decodes a testdata List (as captured from a real API server) into objects,
// and returns the capture time written in its header.
func loadFixture(t *testing.T, name string) (rollout.Objects, time.Time) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var captured time.Time
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "# captured: "); ok {
			captured, err = time.Parse(time.RFC3339, v)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	var list struct {
		Items []runtime.RawExtension `json:"items"`
	}
	if err := yaml.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	var objs rollout.Objects
	decoder := scheme.Codecs.UniversalDeserializer()
	for _, item := range list.Items {
		obj, _, err := decoder.Decode(item.Raw, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			objs.Deployments = append(objs.Deployments, o)
		case *appsv1.ReplicaSet:
			objs.ReplicaSets = append(objs.ReplicaSets, o)
		case *corev1.Pod:
			objs.Pods = append(objs.Pods, o)
		}
	}
	return objs, captured
}

// Each fixture is what a real API server returned in that scenario (hack/capture-fixtures).
func TestBuildOverCapturedRollouts(t *testing.T) {
	type pods struct {
		total   int
		reasons map[string]int // canary pods by reason ("" = ready)
	}
	cases := []struct {
		fixture        string
		phase          rollout.Phase
		canary, stable int64 // the stable is the canary once Complete
		revisions      int
		unnumbered     bool // the stable ReplicaSet lacks a revision annotation
		canaryPods     pods
		why            string // a part of Why
	}{
		{"new-rollout", rollout.PhaseProgressing, 1, 0, 1, false, pods{3, map[string]int{"": 3}}, "0/3 updated pods available"},
		{"mid-rollout", rollout.PhaseProgressing, 2, 1, 2, false, pods{1, map[string]int{"": 1}}, "1/4 pods updated, 4 available"},
		{"paused", rollout.PhaseHalted, 2, 1, 2, false, pods{1, map[string]int{"": 1}}, "halted with 1/4 pods on the new revision"},
		{"complete", rollout.PhaseComplete, 2, 2, 2, false, pods{3, map[string]int{"": 3}}, "3/3 available on revision 2"},
		{"progress-deadline-exceeded", rollout.PhaseFailed, 2, 1, 2, false, pods{1, map[string]int{rollout.ReasonCrashLoop: 1}},
			"1/1 canary pods CrashLoopBackOff: ModuleNotFoundError: No module named 'orjson'; no progress for 10s (progress deadline exceeded)"},
		{"crashloop-canary", rollout.PhaseDegraded, 2, 1, 2, false, pods{1, map[string]int{rollout.ReasonCrashLoop: 1}},
			"1/1 canary pods CrashLoopBackOff: ModuleNotFoundError: No module named 'orjson'"},
		{"oomkilled", rollout.PhaseDegraded, 2, 1, 2, false, pods{1, map[string]int{rollout.ReasonOOMKilled: 1}},
			"1/1 canary pods OOMKilled: the container exceeded its memory limit (512Mi)"},
		{"image-pull-backoff", rollout.PhaseDegraded, 2, 1, 2, false, pods{1, map[string]int{rollout.ReasonImagePullBackOff: 1}}, "1/1 canary pods ImagePullBackOff"},
		{"zero-replicas", rollout.PhaseComplete, 1, 1, 1, false, pods{0, map[string]int{}}, "scaled to zero on revision 1"},
		{"scaled-during-rollout", rollout.PhaseProgressing, 2, 1, 2, false, pods{1, map[string]int{"": 1}}, "1/6 pods updated, 6 available"},
		{"ten-old-replicasets", rollout.PhaseComplete, 11, 11, 11, false, pods{1, map[string]int{"": 1}}, "1/1 available on revision 11"},
		{"no-revision-annotation", rollout.PhaseProgressing, 2, 0, 2, true, pods{1, map[string]int{"": 1}}, "1/4 pods updated"},
		{"rollback-in-progress", rollout.PhaseProgressing, 4, 3, 3, false, pods{1, map[string]int{"": 1}}, "1/3 pods updated"},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			objs, captured := loadFixture(t, c.fixture)
			rollouts := rollout.Build(objs, captured.Add(time.Second))
			if len(rollouts) != 1 {
				t.Fatalf("%d rollouts", len(rollouts))
			}
			r := rollouts[0]
			if r.Phase != c.phase || r.CanaryRevision != c.canary || r.StableRevision != c.stable || len(r.Revisions) != c.revisions {
				t.Errorf("phase %s canary %d stable %d revisions %d; want %s %d %d %d", r.Phase, r.CanaryRevision, r.StableRevision, len(r.Revisions), c.phase, c.canary, c.stable, c.revisions)
			}
			if !strings.Contains(string(r.Why), c.why) {
				t.Errorf("why %q lacks %q", r.Why, c.why)
			}
			if stable := r.Stable(); c.unnumbered && (stable == nil || stable.Number != 0) {
				t.Errorf("the unnumbered old ReplicaSet should still be the stable one: %+v", stable)
			}
			// One rule for both kinds (TestArgoFullyPromotedIsStable): the current revision is
			// the canary while it rolls out, the stable one once the rollout is Complete, and
			// then the only one that serves.
			canary := r.Current()
			if canary == nil {
				t.Fatal("no current revision")
			}
			wantRole := rollout.RoleCanary
			if c.phase == rollout.PhaseComplete {
				wantRole = rollout.RoleStable
			}
			if canary.Role != wantRole || canary.Number != c.canary {
				t.Errorf("current revision %d is %s; want %d %s", canary.Number, canary.Role, c.canary, wantRole)
			}
			for _, rev := range r.Revisions {
				if rev.Role.IsServing() && (rev.Number != c.stable || c.stable == 0 && !c.unnumbered) {
					t.Errorf("revision %d is %s; want the stable one to be %d", rev.Number, rev.Role, c.stable)
				}
			}
			reasons := map[string]int{}
			for _, p := range canary.Pods {
				reasons[string(p.Reason)]++
			}
			if len(canary.Pods) != c.canaryPods.total || !equalCounts(reasons, c.canaryPods.reasons) {
				t.Errorf("canary pods %d %v; want %d %v", len(canary.Pods), reasons, c.canaryPods.total, c.canaryPods.reasons)
			}
			for i := 1; i < len(r.Revisions); i++ {
				if r.Revisions[i-1].Number != 0 && r.Revisions[i].Number > r.Revisions[i-1].Number {
					t.Errorf("revisions not newest first: %d before %d", r.Revisions[i-1].Number, r.Revisions[i].Number)
				}
			}
		})
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
