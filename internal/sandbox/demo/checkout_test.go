package demo

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestCheckoutReleasesAroundTheAnalysisThreshold(t *testing.T) {
	for _, good := range []struct {
		name string
		rate float64
	}{{CheckoutV1.Version, CheckoutV1.ErrorRate}, {CheckoutV2.Version, CheckoutV2.ErrorRate}} {
		// Well below: one error in a minute's 300 requests must not fail the analysis.
		if good.rate*3 > MaxCanaryErrorRate {
			t.Errorf("checkout-api %s errs %g, too close to the analysis' %g", good.name, good.rate, MaxCanaryErrorRate)
		}
	}
	if CheckoutBad.ErrorRate < 3*MaxCanaryErrorRate {
		t.Errorf("checkout-api %s errs %g: the analysis (max %g) must fail it without doubt", CheckoutBad.Version, CheckoutBad.ErrorRate, MaxCanaryErrorRate)
	}
	for _, r := range []string{CheckoutV1.Name, CheckoutV2.Name, CheckoutBad.Name} {
		if r != "checkout-api" {
			t.Errorf("release of %q; all three ship checkout-api", r)
		}
	}
	if CheckoutV2.Replicas != 5 || CheckoutV2.Image == CheckoutV1.Image {
		t.Error("4.2.0 must be a new build of the same 5 replicas")
	}
}

func TestCheckoutCanaryHoldsAtTheIndefinitePause(t *testing.T) {
	c := CheckoutCanary()
	if len(c.Steps) != 4 || c.Steps[CheckoutPauseStep].Pause == nil || c.Steps[CheckoutPauseStep].Pause.Duration != "" {
		t.Fatalf("steps %+v; want the indefinite pause at index %d", c.Steps, CheckoutPauseStep)
	}
	if w := c.Steps[0].SetWeight; w == nil || *w != 20 {
		t.Errorf("first step %+v; want setWeight 20 (1 of 5 pods)", c.Steps[0])
	}
	if c.Analysis == nil || c.Analysis.Templates[0].TemplateName != ErrorRateTemplateName || c.Analysis.Args[0].ValueFrom.PodTemplateHashValue != "Latest" {
		t.Errorf("analysis %+v; want error-rate with the canary's hash", c.Analysis)
	}
}

func TestErrorRateTemplateAsksTheSandboxPrometheus(t *testing.T) {
	tmpl := ErrorRateTemplate("e2e-x", "http://127.3.255.254:41234")
	metrics, _, _ := unstructured.NestedSlice(tmpl.Object, "spec", "metrics")
	if len(metrics) != 1 {
		t.Fatalf("metrics %v; want one", metrics)
	}
	m := metrics[0].(map[string]any)
	address, _, _ := unstructured.NestedString(m, "provider", "prometheus", "address")
	query, _, _ := unstructured.NestedString(m, "provider", "prometheus", "query")
	if address != "http://127.3.255.254:41234" {
		t.Errorf("address %q", address)
	}
	for _, want := range []string{`namespace="e2e-x"`, `pod_template_hash="{{args.canary-hash}}"`, `status=~"5.."`, "http_requests_total", "[1m]", "or vector(0)"} {
		if !strings.Contains(query, want) {
			t.Errorf("query %s lacks %s", query, want)
		}
	}
	if m["successCondition"] != "len(result) == 0 || result[0] < 0.01" || m["failureLimit"] != int64(1) || m["interval"] != "10s" {
		t.Errorf("metric %v", m)
	}
	if _, counted := m["count"]; counted {
		t.Error("a count would end the analysis while the canary still serves")
	}
}
