package promclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/testkit/hostile"
)

// What Prometheus says reaches the report made safe: its warnings, the python_info
// version a pod exports (a pod writes its own labels), and its error messages.
func TestHostilePrometheusAnswersMakeASafeReport(t *testing.T) {
	evil := strings.Join(hostile.Values, " ")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		q := r.Form.Get("query")
		var result []map[string]any
		add := func(labels map[string]string, v string) {
			result = append(result, map[string]any{"metric": labels, "value": []any{1.0, v}})
		}
		switch {
		case strings.Contains(q, "count by (__name__)"):
			add(map[string]string{"__name__": "http_requests_total"}, "1")
		case strings.Contains(q, "python_info"):
			add(map[string]string{"namespace": "shop", "pod": "orders-new-a", "version": "3.12" + hostile.OSC52 + hostile.RLO}, "1")
		case strings.Contains(q, "bucket"):
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"status": "error", "errorType": "bad_data", "error": "parse error" + hostile.Title0})
			return
		default:
			add(map[string]string{"namespace": "shop", "pod": "orders-new-a"}, "1")
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "warnings": []string{evil, hostile.Blink + "partial"},
			"data": map[string]any{"resultType": "vector", "result": result}})
	}))
	defer srv.Close()
	c, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	report := c.Report(context.Background(), "shop", twoRevisions(), time.Now())
	if report.Err != nil {
		t.Fatal(report.Err)
	}
	if len(report.Warnings) < 3 || report.Revisions[key("orders", 2)].Python == "" {
		t.Fatalf("warnings %q, python %q: the hostile answers were not read", report.Warnings, report.Revisions[key("orders", 2)].Python)
	}
	for _, p := range hostile.Problems(report) {
		t.Error(p)
	}

	// An error answer: its message is in Err.
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "error", "errorType": "execution", "error": "boom" + hostile.OSC52})
	}))
	defer failing.Close()
	c, err = New(failing.URL)
	if err != nil {
		t.Fatal(err)
	}
	report = c.Report(context.Background(), "shop", twoRevisions(), time.Now())
	if report.Err == nil || !strings.Contains(report.Err.Error(), `boom\x1b]52`) {
		t.Fatalf("Err = %v, want the answer's message, escaped", report.Err)
	}
	for _, p := range hostile.Problems(report.Err.Error()) {
		t.Error(p)
	}
}
