package kube

import (
	"runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/pyroll/kubectl-pyroll/internal/rollout/rollouttest"
)

// retainedPerPod measures the heap that n pods hold once stored in a cache keyed as an
// informer's is, with or without the transform. Pods are decoded from protobuf, as the
// informer receives them, so nothing is shared between them but what the transform shares.
func retainedPerPod(b *testing.B, n int, transform bool) float64 {
	var wire [][]byte
	for _, p := range rollouttest.Synthetic(n/25, 25).Pods {
		data, err := p.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		wire = append(wire, data)
	}
	store := cache.NewStore(cache.DeletionHandlingMetaNamespaceKeyFunc)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, data := range wire {
		pod := &corev1.Pod{}
		if err := pod.Unmarshal(data); err != nil {
			b.Fatal(err)
		}
		var cached any = pod
		if transform {
			cached, _ = stripForCache(pod)
		}
		if err := store.Add(cached); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(store)
	runtime.KeepAlive(wire)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(len(wire))
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
