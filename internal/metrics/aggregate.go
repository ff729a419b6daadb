package metrics

import (
	"fmt"
	"maps"
	"math"
	"sort"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// PodKey names a pod by Prometheus' labels.
type PodKey struct{ Namespace, Pod string }

// Samples are the raw per-pod results of one round of queries.
type Samples struct {
	Requests map[PodKey]float64
	Errors   map[PodKey]float64
	// Buckets maps a pod to its bucket rates by upper bound (le).
	Buckets map[PodKey]map[float64]float64
}

// PerRevision sums the per-pod samples into revisions through the pods the rollouts hold.
func PerRevision(rollouts []rollout.Rollout, s Samples) map[Key]Revision {
	out := map[Key]Revision{}
	for _, r := range rollouts {
		for _, rev := range r.Revisions {
			if len(rev.Pods) == 0 {
				continue
			}
			key := KeyOf(&r, rev.Number)
			var requests, errors float64
			seen := false
			buckets := map[float64]float64{}
			for _, p := range rev.Pods {
				pk := PodKey{Namespace: r.Namespace, Pod: p.Name}
				if v, ok := s.Requests[pk]; ok && !math.IsNaN(v) {
					requests += v
					seen = true
				}
				if v, ok := s.Errors[pk]; ok && !math.IsNaN(v) {
					errors += v
				}
				for le, v := range s.Buckets[pk] {
					if !math.IsNaN(v) {
						buckets[le] += v
					}
				}
			}
			m := Revision{}
			m.State, m.RequestRate, m.ErrorRate, m.P95 = fromSums(seen, requests, errors, buckets)
			out[key] = m
		}
	}
	return out
}

// fromSums reads summed series: NO DATA without a requests series, no traffic at 0
// requests, out of step with more errors than requests (never a rate then), else the
// request rate, the error rate and the p95 of the buckets (0 without a histogram).
func fromSums(seen bool, requests, errors float64, buckets map[float64]float64) (State, float64, float64, time.Duration) {
	switch {
	case !seen:
		return StateNoData, 0, 0, 0
	case requests == 0:
		return StateNoTraffic, 0, 0, 0
	case outOfStep(errors, requests):
		return StateOutOfStep, 0, 0, 0
	}
	return StateOK, requests, math.Min(errors/requests, 1), quantile(0.95, buckets)
}

// outOfStep says whether there are more errors than requests: not a 100% error rate but
// two counters that disagree. The tolerance is for float sums only: a revision that fails
// every request sums the same series for both, in whatever order Prometheus adds them.
func outOfStep(errors, requests float64) bool {
	return errors > requests*(1+1e-9)
}

// quantile estimates a quantile from cumulative bucket rates by upper bound, as
// Prometheus' histogram_quantile does (linear interpolation inside the bucket).
func quantile(q float64, buckets map[float64]float64) time.Duration {
	if len(buckets) == 0 {
		return 0
	}
	bounds := make([]float64, 0, len(buckets))
	for le := range buckets {
		bounds = append(bounds, le)
	}
	sort.Float64s(bounds)
	total := buckets[bounds[len(bounds)-1]]
	if total <= 0 || !math.IsInf(bounds[len(bounds)-1], 1) {
		return 0
	}
	rank := q * total
	lower, lowerCount := 0.0, 0.0
	for _, le := range bounds {
		count := buckets[le]
		if count >= rank {
			if math.IsInf(le, 1) {
				return seconds(lower)
			}
			if count == lowerCount {
				return seconds(le)
			}
			return seconds(lower + (le-lower)*(rank-lowerCount)/(count-lowerCount))
		}
		lower, lowerCount = le, count
	}
	return seconds(lower)
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// Round is one round of samples, per preset queried, in detection order.
type Round struct {
	Presets []string
	Samples map[string]Samples
	// Python is the version python_info reports per pod (any preset: prometheus_client
	// exports it by default).
	Python map[PodKey]safetext.Text
}

// PythonQuery reads python_info's version per pod.
func PythonQuery(namespace string) string {
	return fmt.Sprintf(`max by (namespace, pod, version) (python_info{ %s })`, Selector(namespace))
}

// PresetFor is the preset a rollout is read with: the one its Deployment names in
// pyroll.dev/metrics-preset, else the first preset with series for one of its pods.
func (rd Round) PresetFor(r rollout.Rollout) string {
	if name := r.Settings[PresetAnnotation]; name != "" {
		return name
	}
	for _, name := range rd.Presets {
		requests := rd.Samples[name].Requests
		for _, rev := range r.Revisions {
			for _, p := range rev.Pods {
				if _, ok := requests[PodKey{Namespace: r.Namespace, Pod: p.Name}]; ok {
					return name
				}
			}
		}
	}
	if len(rd.Presets) > 0 {
		return rd.Presets[0]
	}
	return ""
}

// PerRevision sums each rollout's samples of its preset into revisions.
func (rd Round) PerRevision(rollouts []rollout.Rollout) map[Key]Revision {
	out := map[Key]Revision{}
	for _, r := range rollouts {
		maps.Copy(out, PerRevision([]rollout.Rollout{r}, rd.Samples[rd.PresetFor(r)]))
		for _, rev := range r.Revisions {
			key := KeyOf(&r, rev.Number)
			if m, ok := out[key]; ok {
				m.Python = commonVersion(r.Namespace, rev.Pods, rd.Python)
				out[key] = m
			}
		}
	}
	return out
}

// commonVersion is the version most of the pods report ("" when none does).
func commonVersion(namespace string, pods []*rollout.Pod, versions map[PodKey]safetext.Text) safetext.Text {
	counts := map[safetext.Text]int{}
	var best safetext.Text
	for _, p := range pods {
		v := versions[PodKey{Namespace: namespace, Pod: p.Name}]
		if v == "" {
			continue
		}
		counts[v]++
		if counts[v] > counts[best] || (counts[v] == counts[best] && v < best) {
			best = v
		}
	}
	return best
}
