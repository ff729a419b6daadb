package metrics

import (
	"bytes"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"text/template"
)

// PresetAnnotation on a Deployment names the preset its pods are read with, overriding
// the detection.
const PresetAnnotation = "pyroll.dev/metrics-preset"

// PresetSpec is a preset as written in the config file: PromQL templates that return one
// series per pod (labels namespace and pod). The templates see {{.Selector}} (the label
// matcher of the scope, e.g. namespace="demo"), {{.Namespace}} ("" for every namespace)
// and {{.Window}} (the rate window, 1m).
type PresetSpec struct {
	// Series is the metric whose presence in a namespace selects this preset when it is
	// detected automatically; empty leaves the preset out of detection.
	Series string `json:"series,omitempty"`
	// Requests and Errors are request rates per second by pod (Errors: 5xx only).
	Requests string `json:"requests"`
	Errors   string `json:"errors"`
	// LatencyBuckets are histogram bucket rates by pod and le; optional.
	LatencyBuckets string `json:"latencyBuckets,omitempty"`
}

// Preset is a validated PresetSpec, ready to query.
type Preset struct {
	Name                      string
	Series                    string
	requests, errors, buckets *template.Template
}

// Window is the rate window of every query.
const Window = "1m"

// errorStatus matches 5xx status labels, whether exporters write the code ("503") or its
// class ("5xx").
const errorStatus = `"5.."`

// BuiltinSpecs are the presets for the common Python exporters, in detection order.
var BuiltinSpecs = []struct {
	Name string
	Spec PresetSpec
}{
	{"prometheus_client", PresetSpec{ // also prometheus-fastapi-instrumentator
		Series:         "http_requests_total",
		Requests:       `sum by (namespace, pod) (rate(http_requests_total{ {{.Selector}} }[{{.Window}}]))`,
		Errors:         `sum by (namespace, pod) (rate(http_requests_total{ {{.Selector}}, status=~` + errorStatus + ` }[{{.Window}}]))`,
		LatencyBuckets: `sum by (namespace, pod, le) (rate(http_request_duration_seconds_bucket{ {{.Selector}} }[{{.Window}}]))`,
	}},
	{"starlette_exporter", PresetSpec{
		Series:         "starlette_requests_total",
		Requests:       `sum by (namespace, pod) (rate(starlette_requests_total{ {{.Selector}} }[{{.Window}}]))`,
		Errors:         `sum by (namespace, pod) (rate(starlette_requests_total{ {{.Selector}}, status_code=~` + errorStatus + ` }[{{.Window}}]))`,
		LatencyBuckets: `sum by (namespace, pod, le) (rate(starlette_request_duration_seconds_bucket{ {{.Selector}} }[{{.Window}}]))`,
	}},
	{"django_prometheus", PresetSpec{
		Series:         "django_http_responses_total_by_status_view_method_total",
		Requests:       `sum by (namespace, pod) (rate(django_http_responses_total_by_status_view_method_total{ {{.Selector}} }[{{.Window}}]))`,
		Errors:         `sum by (namespace, pod) (rate(django_http_responses_total_by_status_view_method_total{ {{.Selector}}, status=~` + errorStatus + ` }[{{.Window}}]))`,
		LatencyBuckets: `sum by (namespace, pod, le) (rate(django_http_requests_latency_seconds_by_view_method_bucket{ {{.Selector}} }[{{.Window}}]))`,
	}},
	{"flask_exporter", PresetSpec{ // prometheus_flask_exporter
		Series:         "flask_http_request_total",
		Requests:       `sum by (namespace, pod) (rate(flask_http_request_total{ {{.Selector}} }[{{.Window}}]))`,
		Errors:         `sum by (namespace, pod) (rate(flask_http_request_total{ {{.Selector}}, status=~` + errorStatus + ` }[{{.Window}}]))`,
		LatencyBuckets: `sum by (namespace, pod, le) (rate(flask_http_request_duration_seconds_bucket{ {{.Selector}} }[{{.Window}}]))`,
	}},
}

// Presets are the presets a client can use, by name, in detection order.
type Presets struct {
	byName map[string]Preset
	order  []string
}

// NewPresets validates the custom presets of the config file and puts them after the
// built-in ones (a custom preset may replace a built-in one of the same name).
func NewPresets(custom map[string]PresetSpec) (Presets, error) {
	ps := Presets{byName: map[string]Preset{}}
	add := func(name string, spec PresetSpec) error {
		p, err := compile(name, spec)
		if err != nil {
			return err
		}
		if _, ok := ps.byName[name]; !ok {
			ps.order = append(ps.order, name)
		}
		ps.byName[name] = p
		return nil
	}
	for _, b := range BuiltinSpecs {
		if err := add(b.Name, b.Spec); err != nil {
			panic(err) // a broken built-in preset is a programming error, caught by the tests
		}
	}
	for _, name := range slices.Sorted(maps.Keys(custom)) {
		if err := add(name, custom[name]); err != nil {
			return Presets{}, err
		}
	}
	return ps, nil
}

// Builtin are the built-in presets only.
func Builtin() Presets {
	ps, _ := NewPresets(nil)
	return ps
}

// Get returns a preset by name.
func (ps Presets) Get(name string) (Preset, bool) {
	p, ok := ps.byName[name]
	return p, ok
}

// Names are the preset names in detection order.
func (ps Presets) Names() []string { return append([]string(nil), ps.order...) }

// Detectable are the presets that take part in detection, in order.
func (ps Presets) Detectable() []Preset {
	var out []Preset
	for _, name := range ps.order {
		if p := ps.byName[name]; p.Series != "" {
			out = append(out, p)
		}
	}
	return out
}

// DetectionQuery asks which of the presets' series exist in the scope: one series per
// metric name present.
func DetectionQuery(presets []Preset, namespace string) string {
	names := make([]string, 0, len(presets))
	for _, p := range presets {
		names = append(names, regexp.QuoteMeta(p.Series))
	}
	return fmt.Sprintf(`count by (__name__) ({__name__=~%q, %s})`, strings.Join(names, "|"), Selector(namespace))
}

// Selector is the label matcher of a scope: one namespace, or every one for "".
func Selector(namespace string) string {
	if namespace == "" {
		return `namespace!=""`
	}
	return fmt.Sprintf(`namespace=%q`, namespace)
}

// Queries are the preset's queries for a namespace ("" for all); buckets is "" when the
// preset reads no latency.
func (p Preset) Queries(namespace string) (requests, errors, buckets string) {
	params := templateParams{Selector: Selector(namespace), Namespace: namespace, Window: Window}
	requests, errors = render(p.requests, params), render(p.errors, params)
	if p.buckets != nil {
		buckets = render(p.buckets, params)
	}
	return requests, errors, buckets
}

type templateParams struct{ Selector, Namespace, Window string }

func render(t *template.Template, params templateParams) string {
	var b bytes.Buffer
	if err := t.Execute(&b, params); err != nil {
		return "" // compile checked that it executes; unreachable
	}
	return strings.TrimSpace(b.String())
}

var (
	groupsByPod      = regexp.MustCompile(`\bby\s*\([^)]*\bpod\b[^)]*\)`)
	groupsByLe       = regexp.MustCompile(`\bby\s*\([^)]*\ble\b[^)]*\)`)
	metricName       = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	sampleNamespaces = []string{"demo", ""}
)

// compile parses a preset's templates and checks, with sample scopes, that each renders
// to a query that selects the scope and groups by pod, so a mistake in the config file is
// reported at start, with the preset and field, instead of as empty columns later.
func compile(name string, spec PresetSpec) (Preset, error) {
	p := Preset{Name: name, Series: spec.Series}
	if spec.Series != "" && !metricName.MatchString(spec.Series) {
		return p, fmt.Errorf("preset %q: series %q is not a metric name", name, spec.Series)
	}
	fields := []struct {
		field, text string
		dst         **template.Template
		required    bool
		group       *regexp.Regexp
		groupHint   string
	}{
		{"requests", spec.Requests, &p.requests, true, groupsByPod, "sum by (namespace, pod) (...)"},
		{"errors", spec.Errors, &p.errors, true, groupsByPod, "sum by (namespace, pod) (...)"},
		{"latencyBuckets", spec.LatencyBuckets, &p.buckets, false, groupsByLe, "sum by (namespace, pod, le) (...)"},
	}
	for _, f := range fields {
		if strings.TrimSpace(f.text) == "" {
			if f.required {
				return p, fmt.Errorf("preset %q: %s is empty; want a PromQL template like %s", name, f.field, f.groupHint)
			}
			continue
		}
		t, err := template.New(name + "." + f.field).Option("missingkey=error").Parse(f.text)
		if err != nil {
			return p, fmt.Errorf("preset %q: %s: %w", name, f.field, err)
		}
		for _, ns := range sampleNamespaces {
			var b bytes.Buffer
			if err := t.Execute(&b, templateParams{Selector: Selector(ns), Namespace: ns, Window: Window}); err != nil {
				return p, fmt.Errorf("preset %q: %s: %w (the template knows {{.Selector}}, {{.Namespace}} and {{.Window}})", name, f.field, err)
			}
			q := b.String()
			if err := balanced(q); err != nil {
				return p, fmt.Errorf("preset %q: %s: %w in %q", name, f.field, err, q)
			}
			if !groupsByPod.MatchString(q) || (f.group == groupsByLe && !groupsByLe.MatchString(q)) {
				return p, fmt.Errorf("preset %q: %s must group by pod, like %s; got %q", name, f.field, f.groupHint, q)
			}
		}
		if !strings.Contains(f.text, "{{.Selector}}") && !strings.Contains(f.text, "{{ .Selector }}") && !strings.Contains(f.text, ".Namespace") {
			return p, fmt.Errorf("preset %q: %s must select the namespace with {{.Selector}} (or {{.Namespace}}), or it reads every namespace", name, f.field)
		}
		*f.dst = t
	}
	return p, nil
}

// balanced reports unbalanced brackets or quotes, the usual typo in a hand-written query.
func balanced(q string) error {
	var stack []rune
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	var quote rune
	escaped := false
	for _, r := range q {
		switch {
		case quote != 0:
			switch {
			case escaped:
				escaped = false
			case r == '\\':
				escaped = true
			case r == quote:
				quote = 0
			}
		case r == '"' || r == '\'' || r == '`':
			quote = r
		case r == '(' || r == '[' || r == '{':
			stack = append(stack, r)
		case pairs[r] != 0:
			if len(stack) == 0 || stack[len(stack)-1] != pairs[r] {
				return fmt.Errorf("unbalanced %q", r)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if quote != 0 {
		return fmt.Errorf("unterminated %c string", quote)
	}
	if len(stack) > 0 {
		return fmt.Errorf("unclosed %q", stack[len(stack)-1])
	}
	return nil
}
