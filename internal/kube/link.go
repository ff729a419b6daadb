package kube

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/clock"
)

// link is the way of the watcher's informers to the API server. A list or watch that gets
// no answer at all (refused, reset, timed out) is not handed back to client-go's reflector,
// which would back off exponentially, to a minute and more after an outage of twenty
// seconds: it waits here until the API server answers a probe (GET /version, every
// linkProbeMin at first, every linkProbeMax at most), then goes again at once. So every
// informer is back within a couple of seconds of the API server's return.
type link struct {
	// ctx bounds the probes: the watcher's run (every informer's context ends with it).
	ctx   context.Context
	probe func(context.Context) error
	clock clock.Clock
	// every is the first wait before a probe (linkProbeMin); it doubles up to linkProbeMax.
	every time.Duration

	mu sync.Mutex
	up chan struct{} // nil while the API server answers; closed when a probe gets an answer
}

const (
	linkProbeMin = 500 * time.Millisecond
	linkProbeMax = 2 * time.Second
	// linkProbeTimeout bounds one probe (an API server that accepts and never answers).
	linkProbeTimeout = 5 * time.Second
)

// waitForAnswer blocks until a probe gets an answer from the API server (starting the
// probes if none run), or until ctx ends.
func (l *link) waitForAnswer(ctx context.Context) error {
	l.mu.Lock()
	if l.up == nil {
		up := make(chan struct{})
		l.up = up
		go l.probeUntilAnswered(l.ctx, up)
	}
	up := l.up
	l.mu.Unlock()
	select {
	case <-up:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// probeUntilAnswered probes, waiting longer between probes up to linkProbeMax, until the
// API server answers (any HTTP answer: a 401 or 403 also says it is there), then opens up.
// It gives up when ctx (the watcher's) ends: the waiters' contexts end with it.
func (l *link) probeUntilAnswered(ctx context.Context, up chan struct{}) {
	interval := l.every
	if interval <= 0 {
		interval = linkProbeMin
	}
	for {
		select {
		case <-ctx.Done():
			l.mu.Lock()
			if l.up == up {
				l.up = nil
			}
			l.mu.Unlock()
			return
		case <-l.clock.After(interval):
		}
		probeCtx, cancel := context.WithTimeout(ctx, linkProbeTimeout)
		err := l.probe(probeCtx)
		cancel()
		if err == nil || !noAnswer(ctx, err) {
			l.mu.Lock()
			l.up = nil
			l.mu.Unlock()
			close(up)
			return
		}
		interval = min(2*interval, max(linkProbeMax, l.every))
	}
}

// noAnswer says whether err means the API server gave no answer at all: a transport error
// (refused, reset, timed out), not an API error (403, 410, 429, 500: the server answered),
// not the caller's own cancellation, and not a credential plugin's failure, which waiting
// for the API server would not cure (and which must not be run again every second).
func noAnswer(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return false
	}
	if strings.Contains(err.Error(), "getting credentials") {
		return false
	}
	return isUnreachable(err)
}

// feed follows one informer's lists and watches: whether it is current, or stale since
// it lost its watch (no answer from the API server, or a watch that ended in an error such
// as 410 Gone, "too old resource version") and until it watches again. After an API server
// restart, the last state stays on screen as "reconnecting" until every informer has read
// the cluster again: live never shows a state from before the outage.
type feed struct {
	resource string
	link     *link
	clock    clock.Clock

	// progress, when set, is called every progressEvery objects of a first list streamed
	// (the initial events of a watch with sendInitialEvents).
	progress      func()
	progressEvery int

	mu         sync.Mutex
	staleSince time.Time // zero while current
	// initial counts the objects the current streamed first list has delivered so far.
	initial int
}

// streamed is how many objects the current (or last) streamed first list delivered.
func (f *feed) streamed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.initial
}

// startStream begins counting a streamed first list.
func (f *feed) startStream() {
	f.mu.Lock()
	f.initial = 0
	f.mu.Unlock()
}

// streamedOne counts one object of a streamed first list, and reports progress every
// progressEvery objects.
func (f *feed) streamedOne() {
	f.mu.Lock()
	f.initial++
	n := f.initial
	f.mu.Unlock()
	if f.progress != nil && f.progressEvery > 0 && n%f.progressEvery == 0 {
		f.progress()
	}
}

func (f *feed) markStale() {
	f.mu.Lock()
	if f.staleSince.IsZero() {
		f.staleSince = f.clock.Now()
	}
	f.mu.Unlock()
}

func (f *feed) markCurrent() {
	f.mu.Lock()
	f.staleSince = time.Time{}
	f.mu.Unlock()
}

// stale returns since when the informer has been stale; zero when it is current.
func (f *feed) stale() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.staleSince
}

// list runs an informer's list; without an answer from the API server it waits for one and
// lists again. A list makes the informer current: it holds everything as of now.
func (f *feed) list(ctx context.Context, call func(context.Context) (runtime.Object, error)) (runtime.Object, error) {
	for {
		obj, err := call(ctx)
		if noAnswer(ctx, err) {
			f.markStale()
			if f.link.waitForAnswer(ctx) != nil {
				return nil, err
			}
			continue
		}
		if err == nil {
			f.markCurrent()
		}
		return obj, err
	}
}

// errReadAgain makes the reflector read everything again rather than resume a watch lost
// while the API server was away.
var errReadAgain = errors.New("the watch was lost while the API server was away: reading everything again")

// watch starts an informer's watch; without an answer from the API server it waits for one
// and starts it again. A stale informer does not resume a watch from its resource version
// (the API server would answer 200, and then, maybe, 410 Gone: too late to know the picture
// is old): it reads everything again first, and is current once it has (a list, or the
// initial events of a watch that lists as it watches: sendInitialEvents). A watch resumed by
// a current informer (the API server ended it after its timeout) keeps it current. A watch
// that ends in an error event makes it stale.
func (f *feed) watch(ctx context.Context, opts metav1.ListOptions, call func(context.Context, metav1.ListOptions) (watch.Interface, error)) (watch.Interface, error) {
	initialEvents := opts.SendInitialEvents != nil && *opts.SendInitialEvents
	for {
		if !initialEvents && !f.stale().IsZero() {
			return nil, errReadAgain
		}
		w, err := call(ctx, opts)
		if noAnswer(ctx, err) {
			f.markStale()
			if f.link.waitForAnswer(ctx) != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if initialEvents {
			f.startStream()
		}
		inFirstList := initialEvents
		return newObservedWatch(w, func(e watch.Event) {
			switch {
			case e.Type == watch.Error:
				f.markStale()
			case inFirstList && e.Type == watch.Added:
				f.streamedOne()
			case inFirstList && e.Type == watch.Bookmark && initialEventsEnd(e.Object):
				inFirstList = false
				f.markCurrent()
			}
		}), nil
	}
}

func initialEventsEnd(obj runtime.Object) bool {
	m, err := meta.Accessor(obj)
	return err == nil && m.GetAnnotations()[metav1.InitialEventsAnnotationKey] == "true"
}

// observedWatch passes a watch's events on, showing each to observe first.
type observedWatch struct {
	inner   watch.Interface
	out     chan watch.Event
	observe func(watch.Event)
	done    chan struct{}
	stop    sync.Once
}

func newObservedWatch(inner watch.Interface, observe func(watch.Event)) *observedWatch {
	w := &observedWatch{inner: inner, out: make(chan watch.Event), observe: observe, done: make(chan struct{})}
	go w.run()
	return w
}

func (w *observedWatch) ResultChan() <-chan watch.Event { return w.out }

func (w *observedWatch) Stop() {
	w.stop.Do(func() {
		close(w.done)
		w.inner.Stop()
	})
}

func (w *observedWatch) run() {
	defer close(w.out)
	in := w.inner.ResultChan()
	for {
		select {
		case <-w.done:
			return
		case e, ok := <-in:
			if !ok {
				return
			}
			w.observe(e)
			select {
			case w.out <- e:
			case <-w.done:
				return
			}
		}
	}
}

// staleFeeds returns since when the earliest of the given informers has been stale, and
// which are, sorted; a zero time when all are current.
func staleFeeds(feeds []*feed) (time.Time, []string) {
	var since time.Time
	var which []string
	for _, f := range feeds {
		s := f.stale()
		if s.IsZero() {
			continue
		}
		which = append(which, f.resource)
		if since.IsZero() || s.Before(since) {
			since = s
		}
	}
	slices.Sort(which)
	return since, which
}
