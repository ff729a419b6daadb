package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
)

// measureAPIFloor is how long the API server takes to hand every pod to a client that does
// nothing with them: the floor under the console's first full frame on this machine, which
// no client that shows pod health can go below. The same two requests the console could
// make: a streaming list (a watch sending its initial events, as the console's informers
// ask) and one LIST, both protobuf; each timed twice, the faster kept. It returns the
// streamed figure: the console's full frame is set beside it.
func measureAPIFloor(ctx context.Context, sb *sandbox.Sandbox, wl scaleWorkload, figs *figures) (time.Duration, error) {
	pods, err := floorPods(sb.RESTConfig())
	if err != nil {
		return 0, err
	}
	best := func(read func() (int, error)) (time.Duration, error) {
		var fastest time.Duration
		for range 2 {
			start := time.Now()
			n, err := read()
			if err != nil {
				return 0, err
			}
			if n < wl.pods() {
				return 0, fmt.Errorf("read %d pods, want at least %d", n, wl.pods())
			}
			if took := time.Since(start); fastest == 0 || took < fastest {
				fastest = took
			}
		}
		return fastest, nil
	}
	streamed, err := best(func() (int, error) { return streamPods(ctx, pods) })
	if err != nil {
		return 0, fmt.Errorf("API floor: %w", err)
	}
	listed, err := best(func() (int, error) {
		l, err := pods.List(ctx, metav1.ListOptions{})
		if err != nil {
			return 0, err
		}
		return len(l.Items), nil
	})
	if err != nil {
		return 0, fmt.Errorf("API floor: %w", err)
	}
	figs.add("API server alone: every one of the %d pods to a client that only decodes them: %.2f s streamed (as the console asks), %.2f s by one LIST   (no target: the floor under the first full frame on this machine)",
		wl.pods(), streamed.Seconds(), listed.Seconds())
	return streamed, nil
}

// floorPods is the bare client of the floor: protobuf, nothing but decoding.
func floorPods(cfg *rest.Config) (typedcorev1.PodInterface, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return client.CoreV1().Pods(metav1.NamespaceAll), nil
}

// streamPods reads every pod as the console's informer asks for them (a watch sending its
// initial events), decoding each and keeping none; it returns how many it read.
func streamPods(ctx context.Context, pods typedcorev1.PodInterface) (int, error) {
	w, err := pods.Watch(ctx, metav1.ListOptions{SendInitialEvents: ptr.To(true), ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan, AllowWatchBookmarks: true})
	if err != nil {
		return 0, err
	}
	defer w.Stop()
	n := 0
	for ev := range w.ResultChan() {
		switch ev.Type {
		case watch.Bookmark:
			if p, ok := ev.Object.(*corev1.Pod); ok && p.Annotations[metav1.InitialEventsAnnotationKey] == "true" {
				return n, nil
			}
		case watch.Error:
			return n, fmt.Errorf("streaming list of pods: %v", ev.Object)
		default:
			n++
		}
	}
	return n, fmt.Errorf("streaming list of pods ended after %d", n)
}
