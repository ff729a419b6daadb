package metrics

import (
	"fmt"
	"strings"
)

// Preset is the PromQL for one family of Python exporters. Each query returns one series
// per pod (labels namespace and pod); %s is the namespace matcher.
type Preset struct {
	Name string
	// Requests and Errors are request rates (per second) by pod; Buckets are histogram
	// bucket rates by pod and le (empty when the exporter has no histogram).
	Requests, Errors, Buckets string
}

// Window is the rate window of every query.
const Window = "1m"

// PrometheusClient is prometheus_client / prometheus-fastapi-instrumentator:
// http_requests_total{status} ("500" or "5xx") and http_request_duration_seconds.
var PrometheusClient = Preset{
	Name:     "prometheus_client",
	Requests: `sum by (namespace, pod) (rate(http_requests_total{%s}[` + Window + `]))`,
	Errors:   `sum by (namespace, pod) (rate(http_requests_total{%s,status=~"5.."}[` + Window + `]))`,
	Buckets:  `sum by (namespace, pod, le) (rate(http_request_duration_seconds_bucket{%s}[` + Window + `]))`,
}

// namespaceMatcher selects one namespace, or every one for "".
func namespaceMatcher(namespace string) string {
	if namespace == "" {
		return `namespace!=""`
	}
	return fmt.Sprintf(`namespace=%q`, namespace)
}

// Queries are the preset's queries for a namespace ("" for all).
func (p Preset) Queries(namespace string) (requests, errors, buckets string) {
	m := namespaceMatcher(namespace)
	requests, errors = fmt.Sprintf(p.Requests, m), fmt.Sprintf(p.Errors, m)
	if p.Buckets != "" {
		buckets = fmt.Sprintf(p.Buckets, m)
	}
	return requests, errors, strings.TrimSpace(buckets)
}
