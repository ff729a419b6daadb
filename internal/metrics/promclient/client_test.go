package promclient

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

type series struct {
	labels map[string]string
	value  string
}

// answer is a canned vector for the queries that contain needle.
type answer struct {
	needle string
	series []series
}

// fakePrometheus answers /api/v1/query like Prometheus does, from canned vectors chosen by
// the first needle the query contains, and counts the queries.
func fakePrometheus(t testing.TB, answers []answer, status int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var count atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		count.Add(1)
		if status != http.StatusOK {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"status":"error","errorType":"internal","error":"boom"}`))
			return
		}
		_ = r.ParseForm()
		q := r.Form.Get("query")
		var result []map[string]any
		for _, a := range answers {
			if strings.Contains(q, a.needle) {
				for _, s := range a.series {
					result = append(result, map[string]any{"metric": s.labels, "value": []any{1.0, s.value}})
				}
				break
			}
		}
		if result == nil {
			result = []map[string]any{}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": result}})
	}))
	t.Cleanup(srv.Close)
	return srv, &count
}

// detected answers the detection query: these exporters' series exist.
func detected(names ...string) answer {
	a := answer{needle: "count by (__name__)"}
	for _, n := range names {
		a.series = append(a.series, series{map[string]string{"__name__": n}, "1"})
	}
	return a
}

func pod(name string) map[string]string { return map[string]string{"namespace": "shop", "pod": name} }

func bucket(name, le string) map[string]string {
	return map[string]string{"namespace": "shop", "pod": name, "le": le}
}

func twoRevisions() []rollout.Rollout {
	return []rollout.Rollout{{Kind: ref.Deployment, Namespace: "shop", Name: "orders", Revisions: []rollout.Revision{
		{Number: 2, Role: rollout.RoleCanary, Pods: []*rollout.Pod{{Name: "orders-new-a"}}},
		{Number: 1, Role: rollout.RoleStable, Pods: []*rollout.Pod{{Name: "orders-old-a"}, {Name: "orders-old-b"}}},
	}}, {Kind: ref.Deployment, Namespace: "shop", Name: "quiet", Revisions: []rollout.Revision{
		{Number: 1, Role: rollout.RoleCanary, Pods: []*rollout.Pod{{Name: "quiet-a"}}},
	}}, {Kind: ref.Deployment, Namespace: "shop", Name: "unscraped", Revisions: []rollout.Revision{
		{Number: 3, Role: rollout.RoleCanary, Pods: []*rollout.Pod{{Name: "unscraped-a"}}},
	}}}
}

func TestPrometheusClientPresetPerRevision(t *testing.T) {
	srv, count := fakePrometheus(t, []answer{
		detected("http_requests_total"),
		{`status=~"5.."`, []series{{pod("orders-new-a"), "0.5"}, {pod("orders-old-a"), "0.05"}, {pod("quiet-a"), "NaN"}}},
		{`http_request_duration_seconds_bucket`, []series{
			{bucket("orders-new-a", "0.1"), "5"}, {bucket("orders-new-a", "0.25"), "9"}, {bucket("orders-new-a", "+Inf"), "10"},
		}},
		{`http_requests_total`, []series{{pod("orders-new-a"), "10"}, {pod("orders-old-a"), "10"}, {pod("orders-old-b"), "10"}, {pod("quiet-a"), "0"}}},
	}, http.StatusOK)
	c, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	report := c.Report(context.Background(), "shop", twoRevisions(), time.Now())
	if report.Err != nil {
		t.Fatal(report.Err)
	}
	canary := report.Revisions[key("orders", 2)]
	stable := report.Revisions[key("orders", 1)]
	if canary.State != metrics.StateOK || math.Abs(canary.ErrorRate-0.05) > 1e-9 || canary.RequestRate != 10 {
		t.Errorf("canary %+v, want 5%% of 10 req/s", canary)
	}
	if stable.State != metrics.StateOK || math.Abs(stable.ErrorRate-0.0025) > 1e-9 || stable.RequestRate != 20 {
		t.Errorf("stable %+v, want 0.25%% of 20 req/s summed over two pods", stable)
	}
	// 95% of 10 = 9.5, between the 0.25 (9) and +Inf (10) buckets: the upper finite bound.
	if canary.P95 != 250*time.Millisecond {
		t.Errorf("canary p95 %s, want 250ms", canary.P95)
	}
	if q := report.Revisions[key("quiet", 1)]; q.State != metrics.StateNoTraffic {
		t.Errorf("a revision with 0 req/s: %+v, want no traffic (never 0%%)", q)
	}
	if u := report.Revisions[key("unscraped", 3)]; u.State != metrics.StateNoData {
		t.Errorf("a revision without series: %+v, want no data", u)
	}
	if n := count.Load(); n != 5 {
		t.Errorf("%d queries, want 5 (detection, requests, errors, buckets, python_info)", n)
	}
	count.Store(0)
	c.Report(context.Background(), "shop", twoRevisions(), time.Now())
	if n := count.Load(); n != 4 {
		t.Errorf("%d queries in the second round, want 4 (the detection is kept)", n)
	}
}

// One query per metric per namespace whatever the number of services (DESIGN.md §5, §9):
// with the prometheus_client preset detected, its requests, errors and latency buckets, plus
// python_info (the running Python versions); the first round also asks which exporters exist
// (the detection query, asked again every redetectEvery rounds). So 5 queries in the first
// round and 4 in the next, for 1 service as for 50.
func TestQueryCountDoesNotGrowWithServices(t *testing.T) {
	srv, count := fakePrometheus(t, []answer{detected("http_requests_total")}, http.StatusOK)
	var many []rollout.Rollout
	for i := 0; i < 50; i++ {
		many = append(many, twoRevisions()...)
	}
	for _, scope := range []struct {
		services string
		rollouts []rollout.Rollout
	}{{"1 service", twoRevisions()[:1]}, {"50 services", many}} {
		c, _ := New(srv.URL)
		count.Store(0)
		c.Report(context.Background(), "shop", scope.rollouts, time.Now())
		if n := count.Swap(0); n != 5 {
			t.Errorf("%s: %d queries in the first round, want 5 (detection, requests, errors, buckets, python_info)", scope.services, n)
		}
		c.Report(context.Background(), "shop", scope.rollouts, time.Now())
		if n := count.Load(); n != 4 {
			t.Errorf("%s: %d queries in the second round, want 4 (requests, errors, buckets, python_info)", scope.services, n)
		}
	}
}

func TestUnreachableIsNotZero(t *testing.T) {
	srv, _ := fakePrometheus(t, nil, http.StatusInternalServerError)
	c, _ := New(srv.URL)
	report := c.Report(context.Background(), "shop", twoRevisions(), time.Now())
	if report.Err == nil || report.Revisions[key("orders", 2)].State != metrics.StateUnreachable {
		t.Errorf("a failing Prometheus: %+v", report)
	}
	down, _ := New("http://127.0.0.1:1")
	if r := down.Report(context.Background(), "shop", twoRevisions(), time.Now()); r.Err == nil {
		t.Errorf("nothing listening should be an error")
	}
}

// tenPercentErrors is a client of a Prometheus where pod orders-new-a serves 10 req/s, 1 of
// them an error.
func tenPercentErrors(t *testing.T) *Client {
	t.Helper()
	srv, _ := fakePrometheus(t, []answer{
		detected("http_requests_total"),
		{`status=~"5.."`, []series{{pod("orders-new-a"), "1"}}},
		{`http_requests_total`, []series{{pod("orders-new-a"), "10"}}},
	}, http.StatusOK)
	c, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHistoryKeepsTheLastValues(t *testing.T) {
	c := tenPercentErrors(t)
	var last metrics.Revision
	for i := 0; i < metrics.HistoryLength+5; i++ {
		last = c.Report(context.Background(), "shop", twoRevisions(), time.Now()).Revisions[key("orders", 2)]
	}
	if len(last.History) != metrics.HistoryLength || last.History[0] != 0.1 {
		t.Errorf("history %v, want %d values of 0.1", last.History, metrics.HistoryLength)
	}
}

// A long-running console sees revisions come and go, one or more per release: the history of
// a revision missing from HistoryLength rounds in a row is forgotten, so what the client holds
// follows the revisions of the last rounds, not every revision it ever saw. A revision missing
// from fewer rounds (scaled to zero, then back after a rollback) keeps its history.
func TestHistoryForgetsRevisionsThatAreGone(t *testing.T) {
	c := tenPercentErrors(t)
	// round runs one round in which the orders rollout has only this revision, and returns
	// the revision's history.
	round := func(revision int64) []float64 {
		rollouts := []rollout.Rollout{{Kind: ref.Deployment, Namespace: "shop", Name: "orders", Revisions: []rollout.Revision{
			{Number: revision, Role: rollout.RoleCanary, Pods: []*rollout.Pod{{Name: "orders-new-a"}}},
		}}}
		return c.Report(context.Background(), "shop", rollouts, time.Now()).Revisions[key("orders", revision)].History
	}

	const releases = 100
	for revision := int64(1); revision <= releases; revision++ {
		round(revision)
	}
	c.mu.Lock()
	remembered := len(c.history)
	c.mu.Unlock()
	if remembered != metrics.HistoryLength {
		t.Errorf("after %d releases the client remembers %d revisions, want %d (those of the last %d rounds)",
			releases, remembered, metrics.HistoryLength, metrics.HistoryLength)
	}

	// Revision 1000 is missing from HistoryLength-1 rounds, then from HistoryLength rounds.
	round(1000)
	for i := 1; i < metrics.HistoryLength; i++ {
		round(2000)
	}
	if h := round(1000); len(h) != 2 {
		t.Errorf("a revision back after %d rounds has history %v, want its 2 values", metrics.HistoryLength-1, h)
	}
	for i := 0; i < metrics.HistoryLength; i++ {
		round(2000)
	}
	if h := round(1000); len(h) != 1 {
		t.Errorf("a revision back after %d rounds has history %v, want only this round's value", metrics.HistoryLength, h)
	}
}

func key(name string, revision int64) metrics.Key {
	return metrics.Key{Rollout: ref.Rollout{Kind: ref.Deployment, Namespace: "shop", Name: name}, Revision: revision}
}

// DESIGN.md §9: the queries per metrics interval do not grow with the services in scope.
func BenchmarkQueriesPerInterval(b *testing.B) {
	for _, services := range []int{1, 200} {
		b.Run(fmt.Sprintf("services=%d", services), func(b *testing.B) {
			srv, count := fakePrometheus(b, []answer{detected("http_requests_total")}, http.StatusOK)
			var rollouts []rollout.Rollout
			for i := 0; i < services; i++ {
				rollouts = append(rollouts, twoRevisions()[0])
			}
			c, _ := New(srv.URL)
			c.Report(context.Background(), "shop", rollouts, time.Now()) // the first round also detects the exporter
			count.Store(0)
			for b.Loop() {
				c.Report(context.Background(), "shop", rollouts, time.Now())
			}
			b.ReportMetric(float64(count.Load())/float64(b.N), "queries/interval")
		})
	}
}
