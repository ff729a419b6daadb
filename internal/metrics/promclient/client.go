// Package promclient reads the per-revision numbers from a real Prometheus (HTTP API).
package promclient

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/redact"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// QueryTimeout bounds every query: client_golang sets no deadline of its own.
const QueryTimeout = 5 * time.Second

// Client reads Prometheus for one scope (a namespace, or all).
type Client struct {
	api promv1.API
	// target names Prometheus in messages (scheme and host: its URL may carry a password
	// or a token) and rewrites the errors about it.
	target  redact.Target
	presets metrics.Presets
	// preset forces one preset for every rollout ("" detects them per namespace).
	preset string

	mu       sync.Mutex
	history  map[metrics.Key]*trail
	rounds   int                  // rounds remembered so far
	detected map[string]detection // by namespace
	// baselines are the releases' before-release numbers, read once per release and kept
	// for its bake window; BaselineQueries counts the queries that read them.
	baselines       map[ref.Rollout]metrics.Baseline
	BaselineQueries atomic.Int64
}

// trail is one revision's history: its last values, and the last round that had it.
type trail struct {
	errorRates []float64
	p95s       []float64 // seconds
	seen       int
}

// forgetAfter is how many rounds in a row a revision may be missing before its history is
// forgotten. A revision can miss rounds without being gone (scaled to zero pods while a
// rollout progresses, then back after a rollback), and its sparkline should carry on; but had
// it been in those rounds without a value, HistoryLength of them would have scrolled every
// value it had out of its sparkline, so forgetting it then loses nothing a sparkline could
// show. The client then holds the revisions of the last HistoryLength rounds, not every
// revision a long-running console ever saw.
const forgetAfter = metrics.HistoryLength

// detection is which presets' series a namespace had, and how many rounds ago.
type detection struct {
	presets []string
	age     int
}

// redetectEvery is how many rounds a detection is trusted before it is asked again (about
// five minutes at the default interval): a new exporter in the namespace shows up then.
const redetectEvery = 30

// Options say where Prometheus is and how to read it.
type Options struct {
	// URL is Prometheus' base URL, e.g. http://prometheus.monitoring:9090, or the API
	// server's service proxy path to it. It may carry credentials (userinfo, a token in the
	// path or the query): no message names more than its scheme and host.
	URL string
	// Name is how messages name Prometheus instead ("" for the URL's scheme and host), e.g.
	// the service behind the API server's proxy.
	Name string
	// Transport carries the requests; nil is a plain HTTP client. The service proxy hands
	// in the API server's authenticated transport.
	Transport http.RoundTripper
	// Presets are the built-in and custom presets; zero is the built-in ones.
	Presets metrics.Presets
	// Preset forces one preset by name; "" or "auto" detects per namespace.
	Preset string
}

// New connects to Prometheus' HTTP API at url with the built-in presets (nothing is sent yet).
func New(url string) (*Client, error) { return NewWithOptions(Options{URL: url}) }

// NewWithOptions connects to Prometheus as the options say (nothing is sent yet).
func NewWithOptions(o Options) (*Client, error) {
	cfg := promapi.Config{Address: o.URL}
	if o.Transport != nil {
		cfg.RoundTripper = o.Transport
	}
	target := redact.NewTarget(o.URL, "")
	if o.Name != "" {
		target.Name = o.Name
	}
	c, err := promapi.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("prometheus at %s: %w", target.Name, target.Error(err))
	}
	presets := o.Presets
	if len(presets.Names()) == 0 {
		presets = metrics.Builtin()
	}
	preset := o.Preset
	if preset == "auto" {
		preset = ""
	}
	if _, ok := presets.Get(preset); preset != "" && !ok {
		return nil, fmt.Errorf("metrics preset %q is not known; known: %s", preset, strings.Join(presets.Names(), ", "))
	}
	return &Client{api: promv1.NewAPI(c), target: target, presets: presets, preset: preset,
		history: map[metrics.Key]*trail{}, detected: map[string]detection{}, baselines: map[ref.Rollout]metrics.Baseline{}}, nil
}

// maxInFlight bounds the queries a round sends at once, so a slow Prometheus is not
// piled on.
const maxInFlight = 2

// Report queries the namespace ("" for all) and sums per revision of the rollouts: one
// query per metric per preset in use, at most two in flight, every one evaluated at now
// (the round's time), so that the error and request rates are of the same moment.
func (c *Client) Report(ctx context.Context, namespace string, rollouts []rollout.Rollout, now time.Time) metrics.Report {
	report := metrics.Report{At: now}
	fail := func(err error) metrics.Report {
		report.Err = safetext.Error(fmt.Errorf("prometheus at %s: %w", c.target.Name, err))
		report.Revisions = unreachable(rollouts)
		c.remember(report.Revisions)
		return report
	}
	names, err := c.presetsInUse(ctx, namespace, rollouts, now, &report)
	if err != nil {
		return fail(err)
	}
	round := metrics.Round{Presets: names, Samples: map[string]metrics.Samples{}}
	var (
		mu    sync.Mutex
		errs  []error
		wg    sync.WaitGroup
		slots = make(chan struct{}, maxInFlight)
	)
	// run sends one query; a failed latency query costs the p95, not the error rates.
	run := func(q string, optional bool, store func(model.Vector)) {
		defer wg.Done()
		slots <- struct{}{}
		defer func() { <-slots }()
		vector, warnings, err := c.query(ctx, q, now)
		mu.Lock()
		defer mu.Unlock()
		report.Warnings = appendNew(report.Warnings, safetext.Lines(warnings)...)
		switch {
		case err != nil && optional:
			report.Warnings = appendNew(report.Warnings, safetext.Line("optional query: "+err.Error()))
		case err != nil:
			errs = append(errs, err)
		default:
			store(vector)
		}
	}
	samples := make([]metrics.Samples, len(names))
	for i, name := range names {
		preset, _ := c.presets.Get(name)
		requests, errors, buckets := preset.Queries(namespace)
		s := &samples[i]
		wg.Add(2)
		go run(requests, false, func(v model.Vector) { s.Requests = byPod(v) })
		go run(errors, false, func(v model.Vector) { s.Errors = byPod(v) })
		if buckets != "" {
			wg.Add(1)
			go run(buckets, true, func(v model.Vector) { s.Buckets = bucketsByPod(v) })
		}
	}
	if len(names) > 0 {
		wg.Add(1)
		go run(metrics.PythonQuery(namespace), true, func(v model.Vector) {
			round.Python = map[metrics.PodKey]safetext.Text{}
			for _, s := range v {
				round.Python[podKey(s.Metric)] = safetext.Line(string(s.Metric["version"]))
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fail(errs[0])
	}
	for i, name := range names {
		round.Samples[name] = samples[i]
	}
	report.Preset = safetext.Line(strings.Join(names, ","))
	if report.Preset == "" {
		report.Preset = "no exporter found"
	}
	report.Revisions = round.PerRevision(rollouts)
	c.remember(report.Revisions)
	report.Baselines = c.readBaselines(ctx, rollouts, round, &report)
	return report
}

// readBaselines are the before-release numbers of every rollout in its bake window with a
// previous revision: one query per release (its preset's requests and errors over the
// BaselineWindow before the release, evaluated at the release), kept for the window and
// never asked again each round. A release no longer baking is forgotten; a query that
// fails is said once and asked again next round.
func (c *Client) readBaselines(ctx context.Context, rollouts []rollout.Rollout, round metrics.Round, report *metrics.Report) map[ref.Rollout]metrics.Baseline {
	c.mu.Lock()
	previous := c.baselines
	c.mu.Unlock()
	kept := map[ref.Rollout]metrics.Baseline{}
	for i := range rollouts {
		r := &rollouts[i]
		if !r.Baking() || r.Bake.PreviousReplicaSet == "" {
			continue
		}
		name := round.PresetFor(*r)
		preset, ok := c.presets.Get(name)
		if !ok {
			continue
		}
		if b, ok := previous[r.Ref()]; ok && b.For(r) && b.Preset == name {
			kept[r.Ref()] = b
			continue
		}
		b := metrics.Baseline{Revision: r.Bake.Previous, ReplicaSet: r.Bake.PreviousReplicaSet, Preset: name,
			From: r.Bake.ReleasedAt.Add(-metrics.BaselineWindow), To: r.Bake.ReleasedAt}
		c.BaselineQueries.Add(1)
		vector, warnings, err := c.query(ctx, preset.BaselineQuery(r.Namespace, r.Bake.PreviousReplicaSet), r.Bake.ReleasedAt)
		report.Warnings = appendNew(report.Warnings, safetext.Lines(warnings)...)
		if err != nil {
			report.Warnings = appendNew(report.Warnings, safetext.Line(fmt.Sprintf("%s/%s: the numbers before the release: %v", r.Namespace, r.Name, err)))
			continue
		}
		samples := make([]metrics.BaselineSample, 0, len(vector))
		for _, s := range vector {
			samples = append(samples, metrics.BaselineSample{Pod: string(s.Metric["pod"]), Series: string(s.Metric[model.LabelName(metrics.BaselineLabelName())]),
				Le: string(s.Metric[model.BucketLabel]), Value: float64(s.Value)})
		}
		kept[r.Ref()] = metrics.SumBaseline(b, samples)
	}
	c.mu.Lock()
	c.baselines = kept
	c.mu.Unlock()
	if len(kept) == 0 {
		return nil
	}
	return kept
}

// presetsInUse are the presets this round queries: the forced one, or those detected in
// the namespace, plus any a Deployment names in its annotation.
func (c *Client) presetsInUse(ctx context.Context, namespace string, rollouts []rollout.Rollout, now time.Time, report *metrics.Report) ([]string, error) {
	var names []string
	if c.preset != "" {
		names = []string{c.preset}
	} else {
		detected, err := c.detect(ctx, namespace, now, report)
		if err != nil {
			return nil, err
		}
		names = detected
	}
	for _, r := range rollouts {
		name := r.Settings[metrics.PresetAnnotation]
		if name == "" || slices.Contains(names, name) {
			continue
		}
		if _, ok := c.presets.Get(name); !ok {
			report.Warnings = appendNew(report.Warnings, safetext.Sprintf("%s/%s: %s=%q is not a known preset (known: %s)",
				r.Namespace, r.Name, metrics.PresetAnnotation, name, strings.Join(c.presets.Names(), ", ")))
			continue
		}
		names = append(names, name)
	}
	return names, nil
}

// detect asks which presets' series exist in the namespace, once per redetectEvery rounds
// (every round while none is found).
func (c *Client) detect(ctx context.Context, namespace string, now time.Time, report *metrics.Report) ([]string, error) {
	c.mu.Lock()
	d, ok := c.detected[namespace]
	if ok && len(d.presets) > 0 && d.age < redetectEvery {
		d.age++
		c.detected[namespace] = d
		c.mu.Unlock()
		return d.presets, nil
	}
	c.mu.Unlock()
	candidates := c.presets.Detectable()
	vector, warnings, err := c.query(ctx, metrics.DetectionQuery(candidates, namespace), now)
	report.Warnings = appendNew(report.Warnings, safetext.Lines(warnings)...)
	if err != nil {
		return nil, err
	}
	present := map[string]bool{}
	for _, s := range vector {
		present[string(s.Metric[model.MetricNameLabel])] = true
	}
	var names []string
	for _, p := range candidates {
		if present[p.Series] {
			names = append(names, p.Name)
		}
	}
	c.mu.Lock()
	c.detected[namespace] = detection{presets: names}
	c.mu.Unlock()
	return names, nil
}

func appendNew(list []safetext.Text, items ...safetext.Text) []safetext.Text {
	for _, item := range items {
		if !slices.Contains(list, item) {
			list = append(list, item)
		}
	}
	return list
}

func unreachable(rollouts []rollout.Rollout) map[metrics.Key]metrics.Revision {
	out := map[metrics.Key]metrics.Revision{}
	for _, r := range rollouts {
		for _, rev := range r.Revisions {
			if len(rev.Pods) > 0 {
				out[metrics.KeyOf(&r, rev.Number)] = metrics.Revision{State: metrics.StateUnreachable}
			}
		}
	}
	return out
}

// remember appends each revision's error rate and p95 to its history (NaN when not ok),
// and forgets the revisions missing from the last forgetAfter rounds.
func (c *Client) remember(revisions map[metrics.Key]metrics.Revision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rounds++
	for key, m := range revisions {
		errorRate, p95 := m.ErrorRate, m.P95.Seconds()
		if m.State != metrics.StateOK {
			errorRate = math.NaN()
		}
		if m.State != metrics.StateOK || m.P95 <= 0 {
			p95 = math.NaN()
		}
		h := c.history[key]
		if h == nil {
			h = &trail{}
			c.history[key] = h
		}
		h.errorRates = lastValues(h.errorRates, errorRate)
		h.p95s = lastValues(h.p95s, p95)
		h.seen = c.rounds
		m.History = slices.Clone(h.errorRates)
		m.P95History = slices.Clone(h.p95s)
		revisions[key] = m
	}
	for key, h := range c.history {
		if c.rounds-h.seen >= forgetAfter {
			delete(c.history, key)
		}
	}
}

// lastValues appends v and keeps the last HistoryLength values.
func lastValues(h []float64, v float64) []float64 {
	h = append(h, v)
	if len(h) > metrics.HistoryLength {
		h = h[len(h)-metrics.HistoryLength:]
	}
	return h
}

// query evaluates q at the time given; its error never names more of Prometheus' URL than
// the scheme and host.
func (c *Client) query(ctx context.Context, q string, at time.Time) (model.Vector, []string, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	value, warnings, _, err := c.api.Query(ctx, q, at)
	if err != nil {
		return nil, warnings, c.target.Error(err)
	}
	vector, ok := value.(model.Vector)
	if !ok {
		return nil, warnings, fmt.Errorf("query %q returned a %s, not a vector", q, value.Type())
	}
	return vector, warnings, nil
}

func podKey(m model.Metric) metrics.PodKey {
	return metrics.PodKey{Namespace: string(m["namespace"]), Pod: string(m["pod"])}
}

func byPod(vector model.Vector) map[metrics.PodKey]float64 {
	out := make(map[metrics.PodKey]float64, len(vector))
	for _, s := range vector {
		out[podKey(s.Metric)] = float64(s.Value)
	}
	return out
}

func bucketsByPod(vector model.Vector) map[metrics.PodKey]map[float64]float64 {
	out := map[metrics.PodKey]map[float64]float64{}
	for _, s := range vector {
		le, err := strconv.ParseFloat(string(s.Metric["le"]), 64)
		if err != nil {
			continue
		}
		pk := podKey(s.Metric)
		if out[pk] == nil {
			out[pk] = map[float64]float64{}
		}
		out[pk][le] = float64(s.Value)
	}
	return out
}
