package kube

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// slowPods is an API whose list of pods waits until release is closed (a large namespace,
// or a slow API server: the pods take seconds while the rest arrives at once).
type slowPods struct {
	kubeapi.API
	release chan struct{}
}

func (a slowPods) Pods(ns string) kubeapi.Resource[*corev1.Pod, *corev1.PodList] {
	return beforeList[*corev1.Pod, *corev1.PodList]{Resource: a.API.Pods(ns), before: func(ctx context.Context) error {
		select {
		case <-a.release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
}

// beforeList is a resource whose List runs before first (which may hold it, or fail it).
type beforeList[T, L runtime.Object] struct {
	kubeapi.Resource[T, L]
	before func(ctx context.Context) error
}

func (r beforeList[T, L]) List(ctx context.Context, opts metav1.ListOptions) (L, error) {
	if err := r.before(ctx); err != nil {
		var zero L
		return zero, err
	}
	return r.Resource.List(ctx, opts)
}

// The rows come before the pods: while the pods' list is still under way, the watcher sends
// every rollout from its status, marked as reading its pods, not synced, its phase from
// the status alone (a crash-looping pod is not read yet, and would not count if it were);
// once the pods are read, the whole picture, with them.
func TestWatcherSendsTheRowsBeforeThePods(t *testing.T) {
	d, rs := testDeployment()
	crashing := testPod(1)
	crashing.Status.Conditions[0].Status = corev1.ConditionFalse
	crashing.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}}}
	api := slowPods{API: kubeapitest.FromClientset(fake.NewClientset(d, rs, testPod(0), crashing)), release: make(chan struct{})}
	cluster := &Cluster{Client: api, Namespace: "shop", Health: &Health{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snaps := NewWatcher(cluster, WatchOptions{Namespace: "shop"}).Run(ctx)

	early := nextSnapshot(t, snaps, "the rows while the pods are listed", func(s rollout.Snapshot) bool { return s.HasRows() })
	if early.Synced || !early.PodsSyncing || early.Conn.State != rollout.ConnSyncing {
		t.Errorf("before the pods: synced %v, pods syncing %v, %s; want pods syncing, not synced, syncing", early.Synced, early.PodsSyncing, early.Conn.State)
	}
	if len(early.Rollouts) != 1 {
		t.Fatalf("before the pods: %+v; want api's row", early.Rollouts)
	}
	r := early.Rollouts[0]
	if !r.ReadingPods() || r.Phase != rollout.PhaseComplete || r.Replicas.Ready != 2 || r.CanaryRevision != 1 || podsIn(t, early) != 0 {
		t.Errorf("before the pods: %s (%s), reading pods %v, %d/%d ready, revision %d, %d pods; want Complete from the status, 2/2, revision 1, reading pods",
			r.Phase, r.Why, r.ReadingPods(), r.Replicas.Ready, r.Replicas.Desired, r.CanaryRevision, podsIn(t, early))
	}

	close(api.release)
	full := nextSnapshot(t, snaps, "the whole picture", func(s rollout.Snapshot) bool { return s.Synced })
	r = full.Rollouts[0]
	if full.PodsSyncing || r.ReadingPods() || podsIn(t, full) != 2 || r.Phase != rollout.PhaseDegraded || full.Conn.State != rollout.ConnLive {
		t.Errorf("pods read: pods syncing %v, reading pods %v, %d pods, %s (%s), %s; want 2 pods, Degraded by the crash loop, live",
			full.PodsSyncing, r.ReadingPods(), podsIn(t, full), r.Phase, r.Why, full.Conn.State)
	}
}

// Many pods arriving after the rows make a bounded number of snapshots, not one per pod:
// with the watcher's clock standing still, the rows' snapshot, then the list of 5,000 pods
// handled whole without a snapshot; one coalescing window later exactly one, synced,
// holding every pod.
func TestWatcherCoalescesThePodsArrivingAfterTheRows(t *testing.T) {
	d, rs := testDeployment()
	client := fake.NewClientset(d, rs)
	const many = 5000
	for i := range many {
		if err := client.Tracker().Add(testPod(i)); err != nil {
			t.Fatal(err)
		}
	}
	api := slowPods{API: kubeapitest.FromClientset(client), release: make(chan struct{})}
	cluster := &Cluster{Client: api, Namespace: "shop", Health: &Health{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const window = 50 * time.Millisecond
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	w := NewWatcher(cluster, WatchOptions{Namespace: "shop", Coalesce: window, Clock: clk})
	snaps := w.Run(ctx)
	stepUntil(t, clk, snaps, window, func(s rollout.Snapshot) bool { return s.PodsSyncing })

	// The rows are out; the Deployments' and ReplicaSets' informers have synced (the
	// events' waits for the pods') and the loop has sent what that changed: it waits for a
	// change (its connection poll's ticker is the one waiter). Then the pods: 5,000 adds
	// handled, and the sync that follows them.
	idle := func() bool { return w.syncedInformers.Load() == 2 && len(w.dirty) == 0 && clk.Waiters() == 1 }
	stepUntilIdle(t, clk, snaps, window, idle)
	before := w.handled.Load()
	close(api.release)
	// One "reading pods" snapshot may go at once (the window since the rows' snapshot may
	// have passed already: the watcher's leading edge), none more while the clock stands.
	partial := 0
	deadline := time.After(10 * time.Second)
	for !(w.handled.Load() >= before+many && clk.Waiters() == 2) {
		select {
		case s := <-snaps:
			if partial++; partial > 1 || !s.PodsSyncing || podsIn(t, s) != 0 {
				t.Fatalf("snapshot %d (%d pods, pods syncing %v) before the window elapsed: the burst is not coalesced", partial, podsIn(t, s), s.PodsSyncing)
			}
		case <-time.After(time.Millisecond):
		case <-deadline:
			t.Fatal("not within 10s: 5,000 pods handled and the loop waiting for the window")
		}
	}
	clk.Step(window)
	s := receive(t, snaps)
	if !s.Synced || s.PodsSyncing || podsIn(t, s) != many {
		t.Fatalf("the snapshot after the window: synced %v, pods syncing %v, %d pods; want synced, all %d", s.Synced, s.PodsSyncing, podsIn(t, s), many)
	}
	// Nothing else pending: the next window passes without a snapshot.
	clk.Step(window)
	select {
	case s := <-snaps:
		t.Errorf("a second snapshot (%d pods) for the same pods", podsIn(t, s))
	default:
	}
}

// nextSnapshot waits for a snapshot that cond accepts.
func nextSnapshot(t *testing.T, ch <-chan rollout.Snapshot, what string, cond func(rollout.Snapshot) bool) rollout.Snapshot {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case s := <-ch:
			if cond(s) {
				return s
			}
		case <-timeout:
			t.Fatalf("no snapshot with %s within 10s", what)
		}
	}
}

// stepUntil moves the clock a window at a time until the watcher sends a snapshot that cond
// accepts.
func stepUntil(t *testing.T, clk *clocktesting.FakeClock, snaps <-chan rollout.Snapshot, window time.Duration, cond func(rollout.Snapshot) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case s := <-snaps:
			if cond(s) {
				return
			}
		case <-poll.C:
			clk.Step(window)
		case <-deadline:
			t.Fatal("no such snapshot within 10s")
		}
	}
}

// stepUntilIdle moves the clock a window at a time while the loop waits out a window,
// taking the snapshots it sends, until idle holds.
func stepUntilIdle(t *testing.T, clk *clocktesting.FakeClock, snaps <-chan rollout.Snapshot, window time.Duration, idle func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	poll := time.NewTicker(time.Millisecond)
	defer poll.Stop()
	for !idle() {
		select {
		case <-snaps:
		case <-poll.C:
			if clk.Waiters() == 2 {
				clk.Step(window)
			}
		case <-deadline:
			t.Fatal("the watcher not idle within 10s")
		}
	}
}

// While 50,000 pods stream, the count is redrawn at most every progressRedraw, however
// fast they come: each redraw rebuilds every row.
func TestPodsCountIsRedrawnAtMostEveryProgressRedraw(t *testing.T) {
	clock := clocktesting.NewFakeClock(time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC))
	w := &Watcher{opts: WatchOptions{Clock: clock}, dirty: make(chan struct{}, 1)}
	redraws := 0
	drain := func() {
		select {
		case <-w.dirty:
			redraws++
		default:
		}
	}
	for range 50000 / podsProgress {
		w.pokeProgress()
		drain()
	}
	if redraws != 1 {
		t.Errorf("%d redraws for 50,000 pods in an instant, want 1", redraws)
	}
	clock.Step(progressRedraw)
	w.pokeProgress()
	drain()
	if redraws != 2 {
		t.Errorf("no redraw %s later", progressRedraw)
	}
}

// eventsListed notes when the events are first listed: before the pods' list was let go
// (early) or after.
type eventsListed struct {
	slowPods
	listed chan struct{}
	once   *sync.Once
	early  *atomic.Bool
}

func (a eventsListed) Events(ns string) kubeapi.Resource[*corev1.Event, *corev1.EventList] {
	return beforeList[*corev1.Event, *corev1.EventList]{Resource: a.API.Events(ns), before: func(context.Context) error {
		select {
		case <-a.release:
		default:
			a.early.Store(true)
		}
		a.once.Do(func() { close(a.listed) })
		return nil
	}}
}

// The events (the detail's) are not read while the pods (the full frame's) still stream:
// their first list follows the pods'.
func TestWatcherListsTheEventsAfterThePods(t *testing.T) {
	d, rs := testDeployment()
	api := eventsListed{
		slowPods: slowPods{API: kubeapitest.FromClientset(fake.NewClientset(d, rs, testPod(0))), release: make(chan struct{})},
		listed:   make(chan struct{}), once: &sync.Once{}, early: &atomic.Bool{},
	}
	cluster := &Cluster{Client: api, Namespace: "shop", Health: &Health{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snaps := NewWatcher(cluster, WatchOptions{Namespace: "shop"}).Run(ctx)
	nextSnapshot(t, snaps, "the rows while the pods are listed", func(s rollout.Snapshot) bool { return s.PodsSyncing })
	close(api.release)
	nextSnapshot(t, snaps, "the whole picture", func(s rollout.Snapshot) bool { return s.Synced })
	select {
	case <-api.listed:
	case <-time.After(10 * time.Second):
		t.Fatal("the events not listed within 10s of the pods")
	}
	if api.early.Load() {
		t.Error("the events were listed while the pods were still being listed")
	}
}
