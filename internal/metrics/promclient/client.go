// Package promclient reads the per-revision numbers from a real Prometheus (HTTP API).
package promclient

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// QueryTimeout bounds every query: client_golang sets no deadline of its own.
const QueryTimeout = 5 * time.Second

// Client reads Prometheus for one scope (a namespace, or all).
type Client struct {
	api    promv1.API
	url    string
	Preset metrics.Preset

	mu      sync.Mutex
	history map[metrics.Key][]float64
}

// New connects to Prometheus' HTTP API at url (nothing is sent yet).
func New(url string) (*Client, error) {
	c, err := promapi.NewClient(promapi.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("prometheus at %q: %w", url, err)
	}
	return &Client{api: promv1.NewAPI(c), url: url, Preset: metrics.PrometheusClient, history: map[metrics.Key][]float64{}}, nil
}

// Report queries the namespace ("" for all) and sums per revision of the rollouts: one
// query per metric, at most two in flight.
func (c *Client) Report(ctx context.Context, namespace string, rollouts []rollout.Rollout, now time.Time) metrics.Report {
	report := metrics.Report{At: now, Preset: c.Preset.Name}
	requests, errors, buckets := c.Preset.Queries(namespace)
	var s metrics.Samples
	var errReq, errErr, errBuckets error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.Requests, errReq = c.byPod(ctx, requests) }()
	go func() { defer wg.Done(); s.Errors, errErr = c.byPod(ctx, errors) }()
	wg.Wait()
	if buckets != "" && errReq == nil {
		s.Buckets, errBuckets = c.bucketsByPod(ctx, buckets)
	}
	for _, err := range []error{errReq, errErr, errBuckets} {
		if err != nil {
			report.Err = fmt.Errorf("prometheus at %s: %w", c.url, err)
			report.Revisions = unreachable(rollouts)
			c.remember(report.Revisions)
			return report
		}
	}
	report.Revisions = metrics.PerRevision(rollouts, s)
	c.remember(report.Revisions)
	return report
}

func unreachable(rollouts []rollout.Rollout) map[metrics.Key]metrics.Revision {
	out := map[metrics.Key]metrics.Revision{}
	for _, r := range rollouts {
		for _, rev := range r.Revisions {
			if len(rev.Pods) > 0 {
				out[metrics.Key{Namespace: r.Namespace, Name: r.Name, Revision: rev.Number}] = metrics.Revision{State: metrics.StateUnreachable}
			}
		}
	}
	return out
}

// remember appends each revision's error rate to its history (NaN when not ok).
func (c *Client) remember(revisions map[metrics.Key]metrics.Revision) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, m := range revisions {
		v := m.ErrorRate
		if m.State != metrics.StateOK {
			v = math.NaN()
		}
		h := append(c.history[key], v)
		if len(h) > metrics.HistoryLength {
			h = h[len(h)-metrics.HistoryLength:]
		}
		c.history[key] = h
		m.History = append([]float64(nil), h...)
		revisions[key] = m
	}
}

func (c *Client) query(ctx context.Context, q string) (model.Vector, error) {
	ctx, cancel := context.WithTimeout(ctx, QueryTimeout)
	defer cancel()
	value, _, _, err := c.api.Query(ctx, q, time.Now())
	if err != nil {
		return nil, err
	}
	vector, ok := value.(model.Vector)
	if !ok {
		return nil, fmt.Errorf("query %q returned a %s, not a vector", q, value.Type())
	}
	return vector, nil
}

func podKey(m model.Metric) metrics.PodKey {
	return metrics.PodKey{Namespace: string(m["namespace"]), Pod: string(m["pod"])}
}

func (c *Client) byPod(ctx context.Context, q string) (map[metrics.PodKey]float64, error) {
	vector, err := c.query(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make(map[metrics.PodKey]float64, len(vector))
	for _, s := range vector {
		out[podKey(s.Metric)] = float64(s.Value)
	}
	return out, nil
}

func (c *Client) bucketsByPod(ctx context.Context, q string) (map[metrics.PodKey]map[float64]float64, error) {
	vector, err := c.query(ctx, q)
	if err != nil {
		return nil, err
	}
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
	return out, nil
}
