package metrics

import (
	"math"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

func TestQuantile(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		buckets map[float64]float64
		want    time.Duration
	}{
		{map[float64]float64{0.1: 50, 0.2: 100, inf: 100}, 190 * time.Millisecond},
		{map[float64]float64{0.1: 0, inf: 0}, 0},
		{map[float64]float64{}, 0},
		{map[float64]float64{0.5: 10}, 0}, // no +Inf bucket: not a histogram
	}
	for _, c := range cases {
		if got := quantile(0.95, c.buckets); got.Round(time.Millisecond) != c.want {
			t.Errorf("quantile(%v) = %s, want %s", c.buckets, got, c.want)
		}
	}
}

// More errors than requests (two counters read a scrape apart) is no rate at all, never
// clamped to 100%; a revision that fails every request is 100%, whatever order its
// series were summed in.
func TestErrorsOverRequestsIsOutOfStep(t *testing.T) {
	r := rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "orders", Revisions: []rollout.Revision{
		{Number: 2, Pods: []*rollout.Pod{{Name: "new-a"}}},
		{Number: 1, Pods: []*rollout.Pod{{Name: "old-a"}, {Name: "old-b"}, {Name: "old-c"}}},
	}}
	// 0.1+0.2+0.3 and 0.3+0.2+0.1 differ in the last bit: the same series, summed apart.
	s := Samples{
		Requests: map[PodKey]float64{{"shop", "new-a"}: 1.0 / 60, {"shop", "old-a"}: 0.3, {"shop", "old-b"}: 0.2, {"shop", "old-c"}: 0.1},
		Errors:   map[PodKey]float64{{"shop", "new-a"}: 2.0 / 60, {"shop", "old-a"}: 0.1, {"shop", "old-b"}: 0.2, {"shop", "old-c"}: 0.3},
	}
	got := PerRevision([]rollout.Rollout{r}, s)
	if canary := got[KeyOf(&r, 2)]; canary.State != StateOutOfStep || canary.ErrorRate != 0 {
		t.Errorf("errors 2/60, requests 1/60: %+v, want %q and no rate", canary, StateOutOfStep)
	}
	if stable := got[KeyOf(&r, 1)]; stable.State != StateOK || math.Abs(stable.ErrorRate-1) > 1e-9 {
		t.Errorf("every request failed: %+v, want ok at 100%%", stable)
	}
}
