package kube

import (
	"encoding/json"
	"runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/pyroll/kubectl-pyroll/internal/rollout/rollouttest"
)

// retainedPerPod measures the heap that n pods hold once stored (as an informer's cache
// holds them), with or without the transform. Pods are decoded from JSON, as an informer
// receives them, so nothing is shared between them.
func retainedPerPod(b *testing.B, n int, transform bool) float64 {
	var wire [][]byte
	for _, p := range rollouttest.Synthetic(n/25, 25).Pods {
		data, err := json.Marshal(p)
		if err != nil {
			b.Fatal(err)
		}
		wire = append(wire, data)
	}
	keep := make([]any, 0, len(wire))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, data := range wire {
		pod := &corev1.Pod{}
		if err := json.Unmarshal(data, pod); err != nil {
			b.Fatal(err)
		}
		var cached any = pod
		if transform {
			cached, _ = stripForCache(pod)
		}
		keep = append(keep, cached)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	runtime.KeepAlive(wire)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(len(keep))
}

// DESIGN.md §9 aims at ≤ 2 KiB retained per cached pod. A memory figure, measured once
// whatever -benchtime says.
func BenchmarkRetainedBytesPerCachedPod(b *testing.B) {
	retained, untransformed := retainedPerPod(b, 5000, true), retainedPerPod(b, 5000, false)
	for b.Loop() {
	}
	b.ReportMetric(retained, "retained-B/pod")
	b.ReportMetric(untransformed, "untransformed-B/pod")
}
