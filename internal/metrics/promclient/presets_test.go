package promclient

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// recorded serves Prometheus API answers kept in testdata, chosen by what a query asks
// (detection, errors, latency buckets or requests), and keeps the queries it was sent.
type recorded struct {
	detect                    []string // exporter series present
	requests, errors, buckets string   // testdata files
	python                    string   // testdata file for python_info (default python.json)
	bucketsStatus             int
	mu                        sync.Mutex
	queries                   []string
}

func (rec *recorded) serve(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		q := r.Form.Get("query")
		rec.mu.Lock()
		rec.queries = append(rec.queries, q)
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		var file string
		switch {
		case strings.HasPrefix(q, "count by (__name__)"):
			var result []map[string]any
			for _, name := range rec.detect {
				result = append(result, map[string]any{"metric": map[string]string{"__name__": name}, "value": []any{1795000000.123, "3"}})
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": append([]map[string]any{}, result...)}})
			return
		case strings.HasPrefix(q, "max by (namespace, pod, version) (python_info"):
			file = rec.python
			if file == "" {
				file = "python.json"
			}
		case strings.Contains(q, "le)"):
			file = rec.buckets
			if rec.bucketsStatus != 0 {
				w.WriteHeader(rec.bucketsStatus)
			}
		case strings.Contains(q, `=~"5.."`):
			file = rec.errors
		default:
			file = rec.requests
		}
		body, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Errorf("testdata: %v", err)
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Every built-in preset is detected from its series, queries its own metric and status
// label, and reads the recorded answers (NaN, warnings, a histogram) the same way.
func TestEachPresetAgainstRecordedAnswers(t *testing.T) {
	statusLabel := map[string]string{"prometheus_client": "status", "starlette_exporter": "status_code", "django_prometheus": "status", "flask_exporter": "status"}
	for _, b := range metrics.BuiltinSpecs {
		t.Run(b.Name, func(t *testing.T) {
			rec := &recorded{detect: []string{b.Spec.Series}, requests: "requests.json", errors: "errors.json", buckets: "buckets.json"}
			c, err := New(rec.serve(t).URL)
			if err != nil {
				t.Fatal(err)
			}
			report := c.Report(context.Background(), "shop", twoRevisions(), time.Now())
			if report.Err != nil || string(report.Preset) != b.Name {
				t.Fatalf("preset %q err %v, want %s", report.Preset, report.Err, b.Name)
			}
			canary, stable := report.Revisions[key("orders", 2)], report.Revisions[key("orders", 1)]
			if canary.State != metrics.StateOK || math.Abs(canary.ErrorRate-0.05) > 1e-9 || canary.P95 != 250*time.Millisecond {
				t.Errorf("canary %+v, want 5%% and p95 250ms", canary)
			}
			if stable.State != metrics.StateOK || math.Abs(stable.ErrorRate-0.0025) > 1e-9 {
				t.Errorf("stable %+v, want 0.25%%", stable)
			}
			if canary.Python != "3.12.8" || stable.Python != "3.12.7" {
				t.Errorf("python_info per revision: canary %q stable %q", canary.Python, stable.Python)
			}
			if q := report.Revisions[key("quiet", 1)]; q.State != metrics.StateNoTraffic {
				t.Errorf("quiet (0 req/s, NaN errors) %+v, want no traffic", q)
			}
			if len(report.Warnings) != 1 || !strings.Contains(string(report.Warnings[0]), "might not be a counter") {
				t.Errorf("warnings %q, want Prometheus' warning passed on", report.Warnings)
			}
			metric := strings.TrimSuffix(b.Spec.Series, "_total")
			wantErrors := statusLabel[b.Name] + `=~"5.."`
			var sawErrors bool
			for _, q := range rec.queries[1:] {
				if strings.Contains(q, "python_info") {
					continue
				}
				if (!strings.Contains(q, "le)") && !strings.Contains(q, metric)) || !strings.Contains(q, `namespace="shop"`) {
					t.Errorf("query %q does not read %s in shop", q, metric)
				}
				sawErrors = sawErrors || strings.Contains(q, wantErrors)
			}
			if !sawErrors {
				t.Errorf("no query selects %s: %q", wantErrors, rec.queries)
			}
		})
	}
}

func TestEmptyAnswersAreNoData(t *testing.T) {
	rec := &recorded{detect: []string{"http_requests_total"}, requests: "empty.json", errors: "empty.json", buckets: "empty.json"}
	c, _ := New(rec.serve(t).URL)
	report := c.Report(context.Background(), "shop", twoRevisions(), time.Now())
	if report.Err != nil {
		t.Fatal(report.Err)
	}
	for k, v := range report.Revisions {
		if v.State != metrics.StateNoData {
			t.Errorf("%v: %+v, want no data for an empty vector", k, v)
		}
	}
}

// A partial answer is used and its warning shown; a failed latency query costs only the p95.
func TestPartialAnswersAndFailedLatency(t *testing.T) {
	rec := &recorded{detect: []string{"http_requests_total"}, requests: "partial.json", errors: "empty.json", buckets: "bad-data.json", bucketsStatus: http.StatusBadRequest}
	c, _ := New(rec.serve(t).URL)
	report := c.Report(context.Background(), "shop", twoRevisions(), time.Now())
	if report.Err != nil {
		t.Fatal(report.Err)
	}
	canary := report.Revisions[key("orders", 2)]
	if canary.State != metrics.StateOK || canary.ErrorRate != 0 || canary.RequestRate != 10 || canary.P95 != 0 {
		t.Errorf("canary %+v, want 0%% of 10 req/s without p95", canary)
	}
	joined := strings.Join(safetext.Strings(report.Warnings), "\n")
	if !strings.Contains(joined, "partial response") || !strings.Contains(joined, "optional query: bad_data") {
		t.Errorf("warnings %q, want the partial answer and the failed latency query", report.Warnings)
	}
}

func TestNoExporterFound(t *testing.T) {
	rec := &recorded{}
	c, _ := New(rec.serve(t).URL)
	for round := 0; round < 2; round++ {
		report := c.Report(context.Background(), "shop", twoRevisions(), time.Now())
		if report.Err != nil || report.Preset != "no exporter found" || report.Revisions[key("orders", 2)].State != metrics.StateNoData {
			t.Errorf("round %d: %+v", round, report)
		}
	}
	if len(rec.queries) != 2 {
		t.Errorf("queries %q, want one detection per round while nothing is found", rec.queries)
	}
}

// A Deployment's pyroll.dev/metrics-preset wins over the detection, and an unknown name
// is a warning, not an error.
func TestPresetAnnotation(t *testing.T) {
	rec := &recorded{detect: []string{"http_requests_total"}, requests: "requests.json", errors: "errors.json", buckets: "buckets.json"}
	c, _ := New(rec.serve(t).URL)
	rollouts := twoRevisions()
	rollouts[0].Settings = map[string]string{metrics.PresetAnnotation: "starlette_exporter"}
	rollouts[1].Settings = map[string]string{metrics.PresetAnnotation: "nonsense"}
	report := c.Report(context.Background(), "shop", rollouts, time.Now())
	if !slices.ContainsFunc(rec.queries, func(q string) bool { return strings.Contains(q, "starlette_requests_total") }) {
		t.Errorf("no starlette query for the annotated Deployment: %q", rec.queries)
	}
	if report.Preset != "prometheus_client,starlette_exporter" {
		t.Errorf("presets %q", report.Preset)
	}
	if !strings.Contains(strings.Join(safetext.Strings(report.Warnings), "\n"), `pyroll.dev/metrics-preset="nonsense" is not a known preset`) {
		t.Errorf("warnings %q", report.Warnings)
	}
}

func TestForcedAndCustomPresets(t *testing.T) {
	presets, err := metrics.NewPresets(map[string]metrics.PresetSpec{"gateway": {
		Requests: `sum by (namespace, pod) (rate(gateway_requests_total{ {{.Selector}} }[{{.Window}}]))`,
		Errors:   `sum by (namespace, pod) (rate(gateway_requests_total{ {{.Selector}}, code=~"5.." }[{{.Window}}]))`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorded{requests: "requests.json", errors: "errors.json"}
	c, err := NewWithOptions(Options{URL: rec.serve(t).URL, Presets: presets, Preset: "gateway"})
	if err != nil {
		t.Fatal(err)
	}
	report := c.Report(context.Background(), "shop", twoRevisions(), time.Now())
	if report.Preset != "gateway" || report.Revisions[key("orders", 2)].State != metrics.StateOK {
		t.Errorf("report %+v", report)
	}
	if len(rec.queries) != 3 || !strings.Contains(strings.Join(rec.queries, "\n"), `gateway_requests_total{ namespace="shop", code=~"5.." }`) {
		t.Errorf("queries %q, want the two gateway queries, python_info and no detection", rec.queries)
	}
	if _, err := NewWithOptions(Options{URL: "http://x", Preset: "nope"}); err == nil || !strings.Contains(err.Error(), "known: prometheus_client") {
		t.Errorf("unknown forced preset: %v", err)
	}
}

// Answers recorded from the sandbox's real Prometheus scraping the demo's Python pods:
// orders-api's canary serves 5% errors, its stable 0.5%.
func TestRecordedFromTheSandbox(t *testing.T) {
	rec := &recorded{detect: []string{"http_requests_total"}, requests: "recorded-demo-requests.json", errors: "recorded-demo-errors.json",
		buckets: "recorded-demo-buckets.json", python: "recorded-demo-python.json"}
	c, _ := New(rec.serve(t).URL)
	orders := []rollout.Rollout{{Kind: ref.Deployment, Namespace: "demo", Name: "orders-api", Revisions: []rollout.Revision{
		{Number: 2, Role: rollout.RoleCanary, Pods: []*rollout.Pod{{Name: "orders-api-d88898778-qg2gk"}}},
		{Number: 1, Role: rollout.RoleStable, Pods: []*rollout.Pod{{Name: "orders-api-64476c9df5-42cg2"}, {Name: "orders-api-64476c9df5-dzstn"},
			{Name: "orders-api-64476c9df5-g2tdl"}, {Name: "orders-api-64476c9df5-tkjqv"}}},
	}}}
	report := c.Report(context.Background(), "demo", orders, time.Now())
	key := func(rev int64) metrics.Key {
		return metrics.Key{Rollout: ref.Rollout{Kind: ref.Deployment, Namespace: "demo", Name: "orders-api"}, Revision: rev}
	}
	canary, stable := report.Revisions[key(2)], report.Revisions[key(1)]
	if canary.State != metrics.StateOK || math.Abs(canary.ErrorRate-0.05) > 0.01 || canary.P95 <= 0 || canary.Python == "" {
		t.Errorf("canary %+v, want ~5%% errors, a p95 and a Python version", canary)
	}
	if stable.State != metrics.StateOK || math.Abs(stable.ErrorRate-0.005) > 0.01 || stable.RequestRate <= 0 {
		t.Errorf("stable %+v, want ~0.5%% errors", stable)
	}
}
