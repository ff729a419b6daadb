package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// status --watch waits for a baking release's verdict while metrics are read: until its
// window ends, or --bake-time after it completed; without Prometheus there is no verdict
// to wait for.
func TestStatusWatchWaitsForTheBakeWindow(t *testing.T) {
	completed := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	baking := rollout.Rollout{Name: "orders", Phase: rollout.PhaseBaking, CanaryRevision: 5, StableRevision: 5,
		Bake: &rollout.Bake{Time: 15 * time.Minute, CompletedAt: completed, Until: completed.Add(15 * time.Minute)}}
	cases := []struct {
		name     string
		metrics  bool
		bakeTime time.Duration
		at       time.Duration // after completion
		settled  bool
		ends     time.Duration // when a timer ends the wait, after completion (-1: none)
	}{
		{"in the window, with metrics (its end comes as a snapshot)", true, -1, 4 * time.Minute, false, -1},
		{"the window ended", true, -1, 15 * time.Minute, true, -1},
		{"--bake-time waits less", true, 2 * time.Minute, time.Minute, false, 2 * time.Minute},
		{"--bake-time passed", true, 2 * time.Minute, 3 * time.Minute, true, 2 * time.Minute},
		{"--bake-time 0 does not wait", true, 0, 0, true, 0},
		{"--bake-time longer than the window", true, time.Hour, 4 * time.Minute, false, -1},
		{"no Prometheus, no verdict to wait for", false, -1, time.Minute, true, -1},
	}
	for _, c := range cases {
		run := &statusRun{StatusOptions: &StatusOptions{BakeTime: c.bakeTime}, rollouts: []rollout.Rollout{baking}}
		if c.metrics {
			run.poller = &metrics.Poller{}
		}
		if got := run.settled(completed.Add(c.at)); got != c.settled {
			t.Errorf("%s: settled %v, want %v", c.name, got, c.settled)
		}
		ends := run.bakeWaitEnds()
		if (c.ends < 0) != ends.IsZero() || (c.ends >= 0 && !ends.Equal(completed.Add(c.ends))) {
			t.Errorf("%s: the wait ends at %s, want +%s", c.name, ends, c.ends)
		}
	}
	done := baking
	done.Phase, done.Bake = rollout.PhaseComplete, nil
	progressing := rollout.Rollout{Name: "pay", Phase: rollout.PhaseProgressing}
	run := &statusRun{StatusOptions: &StatusOptions{BakeTime: -1}, rollouts: []rollout.Rollout{done, progressing}, poller: &metrics.Poller{}}
	if run.settled(completed) {
		t.Error("a rollout in progress is not settled")
	}
}

// status -o json carries bake: {until, ..., baseline}.
func TestStatusJSONCarriesTheBakeWindow(t *testing.T) {
	completed := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	r := rollout.Rollout{Name: "orders", Namespace: "shop", Phase: rollout.PhaseBaking, CanaryRevision: 5, StableRevision: 5,
		Bake: &rollout.Bake{Time: 15 * time.Minute, TimeText: "15m0s", ReleasedAt: completed.Add(-time.Minute), CompletedAt: completed, Until: completed.Add(15 * time.Minute), Previous: 4, PreviousReplicaSet: "orders-44"}}
	report := metrics.Report{At: completed.Add(time.Minute), Baselines: map[ref.Rollout]metrics.Baseline{r.Ref(): {
		Revision: 4, ReplicaSet: "orders-44", To: r.Bake.ReleasedAt, From: r.Bake.ReleasedAt.Add(-10 * time.Minute), State: metrics.StateOK, ErrorRate: 0.002}}}
	p := &statusPrinter{verdicts: guard.JudgeRound([]rollout.Rollout{r}, report, guard.Thresholds{})}
	data, err := json.Marshal(p.item(r))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Phase string `json:"phase"`
		Bake  struct {
			Until    time.Time `json:"until"`
			Previous int64     `json:"previousRevision"`
			Baseline struct {
				Revision  int64   `json:"revision"`
				ErrorRate float64 `json:"errorRate"`
			} `json:"baseline"`
		} `json:"bake"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Phase != "Baking" || !doc.Bake.Until.Equal(r.Bake.Until) || doc.Bake.Previous != 4 || doc.Bake.Baseline.Revision != 4 || doc.Bake.Baseline.ErrorRate != 0.002 {
		t.Errorf("status JSON %s", data)
	}
	if n := strings.Count(string(data), `"bake"`); n != 1 {
		t.Errorf("%d bake keys in %s", n, data)
	}
}
