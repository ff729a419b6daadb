package kube

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/clock"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// refused is what a list or watch returns while the API server is down.
var refused = &url.Error{Op: "Get", URL: "https://127.0.0.1:6443/api/v1/pods", Err: syscall.ECONNREFUSED}

func TestNoAnswerIsOnlyATransportFailure(t *testing.T) {
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"refused", ctx, refused, true},
		{"reset", ctx, &url.Error{Op: "Get", URL: "https://x", Err: syscall.ECONNRESET}, true},
		{"no error", ctx, nil, false},
		{"the caller gave up", canceled, refused, false},
		{"forbidden: the server answered", ctx, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("no")), false},
		{"410 Gone: the server answered", ctx, apierrors.NewResourceExpired("too old resource version"), false},
		{"a credential plugin failed", ctx, &url.Error{Op: "Get", URL: "https://x", Err: errors.New("getting credentials: exec: executable kubelogin not found")}, false},
		{"a decoding error", ctx, errors.New("object has no kind"), false},
	} {
		if got := noAnswer(c.ctx, c.err); got != c.want {
			t.Errorf("%s: noAnswer(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

func testFeed(probe func(context.Context) error) *feed {
	l := &link{ctx: context.Background(), probe: probe, clock: clock.RealClock{}, every: time.Millisecond}
	return &feed{resource: "pods", link: l, clock: clock.RealClock{}}
}

// A watch the API server does not answer is not handed back to the reflector (which would
// back off for up to a minute): it waits for a probe to get an answer. Then the informer,
// stale since the first failure, does not resume from its resource version: it reads
// everything again (a list here), which makes it current, and then resumes.
func TestFeedWaitsForTheAPIServerThenReadsEverythingAgain(t *testing.T) {
	var probes atomic.Int32
	f := testFeed(func(context.Context) error {
		if probes.Add(1) < 3 {
			return refused
		}
		return nil
	})
	calls := 0
	resume := func(context.Context, metav1.ListOptions) (watch.Interface, error) {
		calls++
		if calls == 1 {
			return nil, refused
		}
		return watch.NewFake(), nil
	}
	_, err := f.watch(context.Background(), metav1.ListOptions{ResourceVersion: "41"}, resume)
	if !errors.Is(err, errReadAgain) || calls != 1 || probes.Load() != 3 {
		t.Fatalf("%v after %d calls and %d probes; want errReadAgain once the third probe was answered, without resuming", err, calls, probes.Load())
	}
	if f.stale().IsZero() {
		t.Fatal("the informer lost its watch: it is stale")
	}
	if _, err := f.list(context.Background(), func(context.Context) (runtime.Object, error) { return &corev1.PodList{}, nil }); err != nil {
		t.Fatal(err)
	}
	if !f.stale().IsZero() {
		t.Error("the informer listed everything: it is current")
	}
	w, err := f.watch(context.Background(), metav1.ListOptions{ResourceVersion: "57"}, resume)
	if err != nil || calls != 2 {
		t.Fatalf("%v after %d calls; want the watch resumed from the list", err, calls)
	}
	w.Stop()
}

// A watch that lists as it watches (sendInitialEvents) makes the informer current only at the
// bookmark that ends its initial events; an error event (410 Gone) makes it stale.
func TestFeedIsCurrentAfterTheInitialEventsAndStaleAfterAnErrorEvent(t *testing.T) {
	f := testFeed(func(context.Context) error { return nil })
	f.markStale()
	fake := watch.NewFake()
	yes := true
	w, err := f.watch(context.Background(), metav1.ListOptions{SendInitialEvents: &yes}, func(context.Context, metav1.ListOptions) (watch.Interface, error) {
		return fake, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	pass := func(send func(), what string, wantStale bool) {
		t.Helper()
		go send()
		<-w.ResultChan()
		if stale := !f.stale().IsZero(); stale != wantStale {
			t.Errorf("after %s: stale %v, want %v", what, stale, wantStale)
		}
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "a", ResourceVersion: "7"}}
	pass(func() { fake.Add(pod) }, "an initial event", true)
	end := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "9", Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"}}}
	pass(func() { fake.Action(watch.Bookmark, end) }, "the end of the initial events", false)
	pass(func() { fake.Modify(pod) }, "a change", false)
	gone := apierrors.NewResourceExpired("too old resource version")
	pass(func() { fake.Error(&gone.ErrStatus) }, "410 Gone", true)
}

// A streamed first list counts its objects as they arrive (the "reading pods 23,000…" on
// screen), and says so every progressEvery objects, not for each; the events after its end
// are not counted; a new first list counts from zero.
func TestFeedCountsTheObjectsOfAStreamedFirstList(t *testing.T) {
	f := testFeed(func(context.Context) error { return nil })
	var progress atomic.Int64
	f.progressEvery, f.progress = 100, func() { progress.Add(1) }
	yes := true
	stream := func() (*watch.FakeWatcher, watch.Interface) {
		fake := watch.NewFake()
		w, err := f.watch(context.Background(), metav1.ListOptions{SendInitialEvents: &yes}, func(context.Context, metav1.ListOptions) (watch.Interface, error) {
			return fake, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return fake, w
	}
	fake, w := stream()
	defer w.Stop()
	pass := func(send func()) {
		t.Helper()
		go send()
		<-w.ResultChan()
	}
	for i := range 250 {
		pass(func() {
			fake.Add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprint("p", i), ResourceVersion: "7"}})
		})
		if got := f.streamed(); got != i+1 {
			t.Fatalf("after %d objects streamed, the count says %d", i+1, got)
		}
	}
	if got := progress.Load(); got != 2 {
		t.Errorf("250 objects streamed reported progress %d times, want 2 (every 100)", got)
	}
	end := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "9", Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"}}}
	pass(func() { fake.Action(watch.Bookmark, end) })
	pass(func() { fake.Add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "later", ResourceVersion: "10"}}) })
	if got := f.streamed(); got != 250 {
		t.Errorf("an object added after the first list counted: %d, want 250", got)
	}
	_, again := stream()
	defer again.Stop()
	if got := f.streamed(); got != 0 {
		t.Errorf("a new first list starts at %d, want 0", got)
	}
}

// A list the API server does not answer waits and lists again; any answer goes back.
func TestFeedListWaitsForTheAPIServer(t *testing.T) {
	f := testFeed(func(context.Context) error { return nil })
	calls := 0
	obj, err := f.list(context.Background(), func(context.Context) (runtime.Object, error) {
		calls++
		if calls == 1 {
			return nil, refused
		}
		return nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("no"))
	})
	if calls != 2 || obj != nil || !apierrors.IsForbidden(err) {
		t.Errorf("%d calls, %v, %v; want the second call's answer, forbidden", calls, obj, err)
	}
}

// A caller that gives up while the API server is away gets its error back.
func TestFeedGivesUpWithItsContext(t *testing.T) {
	f := testFeed(func(context.Context) error { return refused })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := f.watch(ctx, metav1.ListOptions{}, func(context.Context, metav1.ListOptions) (watch.Interface, error) { return nil, refused })
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("err = %v, want the refusal", err)
	}
}

func TestNotReadyReason(t *testing.T) {
	for _, c := range []struct {
		name     string
		err      error
		timedOut bool
		want     string
	}{
		{"ready", nil, false, ""},
		{"etcd down", &kubeapi.NotReady{Failed: []string{"etcd", "etcd-readiness"}}, false, "the API server is not ready (etcd, etcd-readiness failed): changes may not show"},
		{"no answer in time", context.DeadlineExceeded, true, "the API server does not say whether it is ready (no answer to /readyz in time)"},
		{"a cluster that hides /readyz", apierrors.NewForbidden(schema.GroupResource{}, "", errors.New("no")), false, ""},
		{"no answer at all: the connection's health says so", refused, false, ""},
	} {
		if got := notReadyReason(c.err, c.timedOut); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// notReadyAPI answers /readyz as an API server whose etcd is down.
type notReadyAPI struct{ kubeapi.API }

func (notReadyAPI) Readiness(context.Context) error {
	return &kubeapi.NotReady{Failed: []string{"etcd"}}
}

// The footer's state: reconnecting while an informer has not read the cluster again since
// it lost its watch (the API server answers again), live once it has.
func TestWatcherIsReconnectingUntilEveryInformerReadsAgain(t *testing.T) {
	d, rs := testDeployment()
	cluster := &Cluster{Client: kubeapitest.FromClientset(fake.NewClientset(d, rs, testPod(0))), Namespace: "shop", Health: &Health{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := NewWatcher(cluster, WatchOptions{Namespace: "shop"})
	snaps := w.Run(ctx)
	nextSynced(t, snaps, func(s rollout.Snapshot) bool { return s.Conn.State == rollout.ConnLive })

	w.feeds["pods"].markStale()
	w.feeds["events"].markStale() // optional: the rollouts show without events
	s := nextSynced(t, snaps, func(s rollout.Snapshot) bool { return s.Conn.State == rollout.ConnReconnecting })
	if s.Conn.Message != "the API server answers again; re-reading pods" || s.Conn.Since.IsZero() || len(s.Rollouts) != 1 {
		t.Errorf("connection %+v with %d rollouts; want reconnecting, re-reading pods, with the last state", s.Conn, len(s.Rollouts))
	}
	w.feeds["pods"].markCurrent()
	nextSynced(t, snaps, func(s rollout.Snapshot) bool { return s.Conn.State == rollout.ConnLive })
}

// An API server that answers but is not ready (its etcd is down) holds its watches open and
// silent: the watcher asks /readyz and says reconnecting, with the last state.
func TestWatcherIsReconnectingWhileTheAPIServerIsNotReady(t *testing.T) {
	d, rs := testDeployment()
	api := notReadyAPI{kubeapitest.FromClientset(fake.NewClientset(d, rs, testPod(0)))}
	cluster := &Cluster{Client: api, Namespace: "shop", Health: &Health{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := nextSynced(t, NewWatcher(cluster, WatchOptions{Namespace: "shop"}).Run(ctx), func(s rollout.Snapshot) bool {
		return s.Conn.State == rollout.ConnReconnecting
	})
	if s.Conn.Message != "the API server is not ready (etcd failed): changes may not show" || len(s.Rollouts) != 1 {
		t.Errorf("connection %+v with %d rollouts", s.Conn, len(s.Rollouts))
	}
}
