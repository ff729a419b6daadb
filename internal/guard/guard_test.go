package guard

import (
	"strings"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

func ok(rate float64, p95 time.Duration) *metrics.Revision {
	return &metrics.Revision{State: metrics.StateOK, ErrorRate: rate, P95: p95, RequestRate: 10}
}

func TestEvaluate(t *testing.T) {
	limits := Thresholds{MaxErrorRate: 0.01, MaxP95: 300 * time.Millisecond}
	cases := []struct {
		name           string
		t              Thresholds
		canary, stable *metrics.Revision
		want           Verdict
	}{
		{"over the error threshold", limits, ok(0.05, 0), ok(0.005, 0), Breach},
		{"over the latency threshold", limits, ok(0, 400*time.Millisecond), nil, Breach},
		{"near the threshold", limits, ok(0.009, 0), nil, Warn},
		{"well within", limits, ok(0.001, 100*time.Millisecond), ok(0.001, 0), OK},
		{"no threshold, canary twice the stable and over 1%", Thresholds{}, ok(0.05, 0), ok(0.005, 0), Warn},
		{"no threshold, both erring alike", Thresholds{}, ok(0.05, 0), ok(0.04, 0), OK},
		{"no traffic is no data, not OK", limits, &metrics.Revision{State: metrics.StateNoTraffic}, nil, NoData},
		{"unreachable", limits, &metrics.Revision{State: metrics.StateUnreachable}, nil, NoData},
		{"no canary", limits, nil, nil, NoData},
	}
	for _, c := range cases {
		if got := Evaluate(c.t, c.canary, c.stable); got.Verdict != c.want {
			t.Errorf("%s: %s (%s), want %s", c.name, got.Verdict, got.Why, c.want)
		}
	}
}

func TestThresholdsFrom(t *testing.T) {
	got, err := ThresholdsFrom(map[string]string{MaxErrorRateAnnotation: "0.02", MaxP95Annotation: "250ms"})
	if err != nil || got.MaxErrorRate != 0.02 || got.MaxP95 != 250*time.Millisecond {
		t.Errorf("%+v, %v", got, err)
	}
	for _, bad := range []map[string]string{{MaxErrorRateAnnotation: "1%"}, {MaxErrorRateAnnotation: "2"}, {MaxP95Annotation: "fast"}} {
		if _, err := ThresholdsFrom(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if got, err := ThresholdsFrom(nil); err != nil || got != (Thresholds{}) {
		t.Errorf("no annotations: %+v, %v", got, err)
	}
}

// errors 2/60 and requests 1/60 (two queries a scrape apart) is NO DATA, said as such:
// it was clamped to a 100% error rate and judged BREACH.
func TestCountersOutOfStepAreNoData(t *testing.T) {
	r := canary("orders", 2, false)
	r.Revisions[0].Pods = []*rollout.Pod{{Name: "orders-new"}}
	r.Revisions[1].Pods = []*rollout.Pod{{Name: "orders-old"}}
	samples := metrics.Samples{
		Requests: map[metrics.PodKey]float64{{Namespace: "shop", Pod: "orders-new"}: 1.0 / 60, {Namespace: "shop", Pod: "orders-old"}: 10},
		Errors:   map[metrics.PodKey]float64{{Namespace: "shop", Pod: "orders-new"}: 2.0 / 60},
	}
	report := metrics.Report{Revisions: metrics.PerRevision([]rollout.Rollout{r}, samples)}
	got := Judge(r, report, Thresholds{MaxErrorRate: 0.01})
	if got.Verdict != NoData || !strings.Contains(got.Why, "counters out of step") {
		t.Errorf("errors 2/60, requests 1/60: %s (%s), want NO DATA: counters out of step", got.Verdict, got.Why)
	}
}
