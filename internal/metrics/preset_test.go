package metrics

import (
	"strings"
	"testing"
)

func TestCustomPresetValidation(t *testing.T) {
	good := `sum by (namespace, pod) (rate(x_total{ {{.Selector}} }[{{.Window}}]))`
	cases := []struct {
		name string
		spec PresetSpec
		want string // "" = valid
	}{
		{"valid", PresetSpec{Series: "x_total", Requests: good, Errors: good}, ""},
		{"no errors", PresetSpec{Requests: good}, "errors is empty"},
		{"template typo", PresetSpec{Requests: good, Errors: `sum by (pod) (x{ {{.Selektor}} })`}, "can't evaluate field Selektor"},
		{"template syntax", PresetSpec{Requests: good, Errors: `sum by (pod) (x{ {{.Selector }`}, "errors"},
		{"unbalanced", PresetSpec{Requests: good, Errors: `sum by (namespace, pod) (rate(x{ {{.Selector}} }[1m])`}, "unclosed"},
		{"not by pod", PresetSpec{Requests: `sum(rate(x{ {{.Selector}} }[1m]))`, Errors: good}, "must group by pod"},
		{"buckets without le", PresetSpec{Requests: good, Errors: good, LatencyBuckets: good}, "latencyBuckets must group by pod"},
		{"every namespace", PresetSpec{Requests: `sum by (pod) (rate(x[1m]))`, Errors: good}, "must select the namespace"},
		{"bad series", PresetSpec{Series: "x-y", Requests: good, Errors: good}, "not a metric name"},
	}
	for _, c := range cases {
		_, err := NewPresets(map[string]PresetSpec{"mine": c.spec})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `preset "mine"`)):
			t.Errorf("%s: error %v, want one naming the preset and %q", c.name, err, c.want)
		}
	}
}

func TestBuiltinQueries(t *testing.T) {
	ps := Builtin()
	if got := strings.Join(ps.Names(), ","); got != "prometheus_client,starlette_exporter,django_prometheus,flask_exporter" {
		t.Errorf("names %s", got)
	}
	p, _ := ps.Get("starlette_exporter")
	_, errors, _ := p.Queries("")
	if errors != `sum by (namespace, pod) (rate(starlette_requests_total{ namespace!="", status_code=~"5.." }[1m]))` {
		t.Errorf("errors query %s", errors)
	}
	if q := DetectionQuery(ps.Detectable(), "demo"); q != `count by (__name__) ({__name__=~"http_requests_total|starlette_requests_total|django_http_responses_total_by_status_view_method_total|flask_http_request_total", namespace="demo"})` {
		t.Errorf("detection %s", q)
	}
}
