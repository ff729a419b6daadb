package promclient

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

var released = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

// bakingOrders is orders at revision 5, in its bake window since a release at released;
// revision 4 (orders-4f4f4f) served before it.
func bakingOrders(current int64, releasedAt time.Time) rollout.Rollout {
	return rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: "orders", Phase: rollout.PhaseBaking,
		CanaryRevision: current, StableRevision: current,
		Bake: &rollout.Bake{Time: 15 * time.Minute, ReleasedAt: releasedAt, CompletedAt: releasedAt.Add(time.Minute), Until: releasedAt.Add(16 * time.Minute),
			Previous: current - 1, PreviousReplicaSet: "orders-4f4f4f", PreviousPodTemplateHash: "4f4f4f"},
		Revisions: []rollout.Revision{
			{Number: current, Role: rollout.RoleStable, Pods: []*rollout.Pod{{Name: "orders-5e5e5e-aaaaa"}}},
			{Number: current - 1, Role: rollout.RoleOld, ReplicaSet: "orders-4f4f4f"},
		}}
}

// baselinePrometheus answers the detection, the round's queries and the baseline query,
// recording each baseline query and the time it was evaluated at.
type baselinePrometheus struct {
	mu      sync.Mutex
	queries []string
	times   []string
}

func (p *baselinePrometheus) serve(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		q := r.Form.Get("query")
		var result []map[string]any
		add := func(labels map[string]string, v string) {
			result = append(result, map[string]any{"metric": labels, "value": []any{1.0, v}})
		}
		switch {
		case strings.Contains(q, "pyroll_baseline"):
			p.mu.Lock()
			p.queries, p.times = append(p.queries, q), append(p.times, r.Form.Get("time"))
			p.mu.Unlock()
			// Two pods of revision 4 (0.2% errors over 100 req/s) and a stranger a custom
			// preset might let through.
			add(map[string]string{"namespace": "shop", "pod": "orders-4f4f4f-abcde", "pyroll_baseline": "requests"}, "60")
			add(map[string]string{"namespace": "shop", "pod": "orders-4f4f4f-fghij", "pyroll_baseline": "requests"}, "40")
			add(map[string]string{"namespace": "shop", "pod": "orders-4f4f4f-abcde", "pyroll_baseline": "errors"}, "0.2")
			add(map[string]string{"namespace": "shop", "pod": "other-1-zzzzz", "pyroll_baseline": "requests"}, "1000")
			// Their latency buckets, split between the two pods: p95 between 250 and 500 ms.
			for _, b := range []struct{ le, a, b string }{{"0.1", "30", "20"}, {"0.25", "54", "36"}, {"0.5", "59", "40"}, {"+Inf", "60", "40"}} {
				add(map[string]string{"namespace": "shop", "pod": "orders-4f4f4f-abcde", "pyroll_baseline": "buckets", "le": b.le}, b.a)
				add(map[string]string{"namespace": "shop", "pod": "orders-4f4f4f-fghij", "pyroll_baseline": "buckets", "le": b.le}, b.b)
			}
			add(map[string]string{"namespace": "shop", "pod": "other-1-zzzzz", "pyroll_baseline": "buckets", "le": "+Inf"}, "1000")
		case strings.Contains(q, "count by (__name__)"):
			add(map[string]string{"__name__": "http_requests_total"}, "1")
		case strings.Contains(q, `status=~"5.."`):
			add(pod("orders-5e5e5e-aaaaa"), "0.5")
		case strings.Contains(q, "http_requests_total"):
			add(pod("orders-5e5e5e-aaaaa"), "10")
		}
		if result == nil {
			result = []map[string]any{}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": result}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The baseline is one query per release, evaluated at the release over the 10 minutes
// before it, of the previous revision's pods with the release's preset; kept for the
// window (never once per round); a new release reads its own.
func TestBaselineOneQueryPerRelease(t *testing.T) {
	prom := &baselinePrometheus{}
	c, err := New(prom.serve(t).URL)
	if err != nil {
		t.Fatal(err)
	}
	rollouts := []rollout.Rollout{bakingOrders(5, released)}
	var report metrics.Report
	for round := range 5 {
		report = c.Report(context.Background(), "shop", rollouts, released.Add(time.Duration(round+2)*time.Minute))
		if report.Err != nil {
			t.Fatal(report.Err)
		}
	}
	if n := c.BaselineQueries.Load(); n != 1 || len(prom.queries) != 1 {
		t.Fatalf("%d baseline queries over 5 rounds; want 1 (kept for the window)", n)
	}
	q := prom.queries[0]
	for _, part := range []string{`pod=~"orders-4f4f4f-[a-z0-9]+"`, `namespace="shop"`, "[10m]", "http_requests_total", `status=~"5.."`, "http_request_duration_seconds_bucket"} {
		if !strings.Contains(q, part) {
			t.Errorf("baseline query lacks %s: %s", part, q)
		}
	}
	if want := strconv.FormatInt(released.Unix(), 10); !strings.HasPrefix(prom.times[0], want) {
		t.Errorf("evaluated at %s; want the release, %s", prom.times[0], want)
	}
	b, ok := report.Baseline(&rollouts[0])
	if !ok {
		t.Fatalf("no baseline in the report: %+v", report.Baselines)
	}
	if b.State != metrics.StateOK || b.RequestRate != 100 || math.Abs(b.ErrorRate-0.002) > 1e-9 || b.Revision != 4 || b.Preset != "prometheus_client" ||
		!b.To.Equal(released) || b.Window() != 10*time.Minute || b.P95.Round(time.Millisecond) != 389*time.Millisecond {
		t.Errorf("baseline %+v; want 0.2%% of 100 req/s of revision 4, p95 389ms, over the 10 minutes before the release", b)
	}
	// A new release (revision 6, released later) reads its own baseline, once.
	next := []rollout.Rollout{bakingOrders(6, released.Add(time.Hour))}
	next[0].Bake.PreviousReplicaSet = "orders-4f4f4f"
	c.Report(context.Background(), "shop", next, released.Add(time.Hour+time.Minute))
	c.Report(context.Background(), "shop", next, released.Add(time.Hour+2*time.Minute))
	if n := c.BaselineQueries.Load(); n != 2 {
		t.Errorf("%d baseline queries after a new release; want 2", n)
	}
	// Not baking any more: nothing asked, nothing kept.
	done := bakingOrders(6, released.Add(time.Hour))
	done.Phase, done.Bake = rollout.PhaseComplete, nil
	if r := c.Report(context.Background(), "shop", []rollout.Rollout{done}, released.Add(2*time.Hour)); len(r.Baselines) != 0 || c.BaselineQueries.Load() != 2 {
		t.Errorf("after the window: baselines %+v, %d queries", r.Baselines, c.BaselineQueries.Load())
	}
	// A report's baseline of another window is not this one's.
	if _, ok := report.Baseline(&next[0]); ok {
		t.Error("the baseline of revision 5's release stands for revision 6's")
	}
}

// The bake window's cost (make bench): 200 rollouts in one namespace, 20 of them releases
// in their bake window. Their baselines are one query each, in the first round only; every
// later round is the same 4 queries as without them, and its time.
func BenchmarkRoundsWith20Baking(b *testing.B) {
	srv, count := fakePrometheus(b, []answer{detected("http_requests_total")}, http.StatusOK)
	rollouts := make([]rollout.Rollout, 0, 200)
	for i := range 200 {
		name := fmt.Sprintf("svc-%03d", i)
		r := rollout.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: name, Phase: rollout.PhaseComplete, CanaryRevision: 2, StableRevision: 2,
			Revisions: []rollout.Revision{
				{Number: 2, Role: rollout.RoleStable, ReplicaSet: name + "-2b", Pods: []*rollout.Pod{{Name: name + "-2b-aaaaa"}, {Name: name + "-2b-bbbbb"}}},
				{Number: 1, Role: rollout.RoleOld, ReplicaSet: name + "-1a"},
			}}
		if i < 20 {
			r.Phase = rollout.PhaseBaking
			r.Bake = &rollout.Bake{Time: 15 * time.Minute, ReleasedAt: released, CompletedAt: released, Until: released.Add(15 * time.Minute), Previous: 1, PreviousReplicaSet: name + "-1a"}
		}
		rollouts = append(rollouts, r)
	}
	c, _ := New(srv.URL)
	c.Report(context.Background(), "shop", rollouts, released.Add(time.Minute))
	first := count.Load()
	count.Store(0)
	for b.Loop() {
		c.Report(context.Background(), "shop", rollouts, released.Add(2*time.Minute))
	}
	b.ReportMetric(float64(first), "first-round-queries")
	b.ReportMetric(float64(count.Load())/float64(b.N), "queries/round")
	b.ReportMetric(float64(c.BaselineQueries.Load()), "baseline-queries")
}
