package kube

import (
	"context"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// WatchOptions scope a Watcher.
type WatchOptions struct {
	Namespace string // "" for all namespaces
	// Selector selects Deployments (their pods and ReplicaSets follow by ownership).
	Selector labels.Selector
	// Name, when set, watches only that Deployment.
	Name string
	// Coalesce is the shortest time between two snapshots (default 50ms).
	Coalesce time.Duration
	Now      func() time.Time
}

// Watcher turns informer events into coalesced snapshots.
type Watcher struct {
	cluster *Cluster
	opts    WatchOptions
	dirty   chan struct{}

	mu        sync.Mutex
	forbidden map[string]string // resource -> message
}

// NewWatcher prepares a watcher; Run starts it.
func NewWatcher(c *Cluster, opts WatchOptions) *Watcher {
	if opts.Coalesce == 0 {
		opts.Coalesce = 50 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Selector == nil {
		opts.Selector = labels.Everything()
	}
	return &Watcher{cluster: c, opts: opts, dirty: make(chan struct{}, 1), forbidden: map[string]string{}}
}

// Run watches until ctx ends, sending a snapshot after each burst of changes and whenever
// the connection state changes. The channel closes when ctx ends.
func (w *Watcher) Run(ctx context.Context) <-chan rollout.Snapshot {
	out := make(chan rollout.Snapshot, 1)
	api, ns := w.cluster.Client, w.opts.Namespace
	deployments := newInformer(api, api.Deployments(ns), &appsv1.Deployment{}, func(o *metav1.ListOptions) {
		o.LabelSelector = w.opts.Selector.String()
		if w.opts.Name != "" {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", w.opts.Name).String()
		}
	})
	replicaSets := newInformer(api, api.ReplicaSets(ns), &appsv1.ReplicaSet{}, nil)
	pods := newInformer(api, api.Pods(ns), &corev1.Pod{}, nil)
	// Events of Deployments and ReplicaSets only: pod events are most of a busy
	// namespace's and the views do not show them.
	events := newInformer(api, api.Events(ns), &corev1.Event{}, func(o *metav1.ListOptions) { o.FieldSelector = "involvedObject.kind!=Pod" })
	watched := []struct {
		resource string
		informer cache.SharedIndexInformer
	}{
		{"deployments", deployments},
		{"replicasets", replicaSets},
		{"pods", pods},
		{"events", events},
	}
	for _, wi := range watched {
		resource := wi.resource
		_, _ = wi.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { w.changed(resource) },
			UpdateFunc: func(any, any) { w.changed(resource) },
			DeleteFunc: func(any) { w.changed(resource) },
		})
		_ = wi.informer.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
			w.watchFailed(resource, err)
		})
	}
	var running sync.WaitGroup
	for _, wi := range watched {
		running.Go(func() { wi.informer.RunWithContext(ctx) })
	}

	go func() {
		defer close(out)
		defer running.Wait()
		synced := func() bool {
			for _, wi := range watched {
				// Events are best-effort: a user who may not list them still sees rollouts.
				if wi.resource != "events" && !wi.informer.HasSynced() {
					return false
				}
			}
			return true
		}
		lastRV := map[string]string{}
		var lastConn rollout.Connection
		var lastEmit time.Time
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		builder := rollout.NewBuilder()
		emit := func() {
			snap := rollout.Snapshot{Synced: synced(), At: w.opts.Now()}
			snap.Conn = w.connection(snap.Synced)
			if snap.Synced {
				objs := rollout.Objects{}
				objs.Deployments = cached[*appsv1.Deployment](deployments)
				objs.ReplicaSets = cached[*appsv1.ReplicaSet](replicaSets)
				objs.PodFacts = cached[*rollout.PodFacts](pods)
				objs.Events = cached[*corev1.Event](events)
				snap.Rollouts = builder.Build(objs, snap.At)
			}
			lastConn, lastEmit = snap.Conn, time.Now()
			select {
			case out <- snap:
			case <-ctx.Done():
			}
		}
		emit()
		for {
			select {
			case <-ctx.Done():
				return
			case <-w.dirty:
				if wait := w.opts.Coalesce - time.Since(lastEmit); wait > 0 {
					select {
					case <-time.After(wait):
					case <-ctx.Done():
						return
					}
				}
				// Merge whatever else arrived during the window into this snapshot.
				select {
				case <-w.dirty:
				default:
				}
				emit()
			case <-tick.C:
				// A forbidden resource clears once its informer lists again.
				for _, wi := range watched {
					rv := wi.informer.LastSyncResourceVersion()
					if rv != lastRV[wi.resource] {
						lastRV[wi.resource] = rv
						w.clearForbidden(wi.resource)
					}
				}
				if c := w.connection(synced()); c.State != lastConn.State || c.Message != lastConn.Message {
					emit()
				}
			}
		}
	}()
	return out
}

// forbiddenHint says what the watch needs when the API server refuses it.
const forbiddenHint = "needs list and watch on deployments, replicasets and pods here: ask for them, or pick a namespace you can read with -n"

func (w *Watcher) changed(resource string) {
	w.clearForbidden(resource)
	select {
	case w.dirty <- struct{}{}:
	default:
	}
}

func (w *Watcher) watchFailed(resource string, err error) {
	if apierrors.IsForbidden(err) {
		w.mu.Lock()
		w.forbidden[resource] = kubeapi.Message(err)
		w.mu.Unlock()
		select {
		case w.dirty <- struct{}{}:
		default:
		}
	}
}

func (w *Watcher) clearForbidden(resource string) {
	w.mu.Lock()
	delete(w.forbidden, resource)
	w.mu.Unlock()
}

func (w *Watcher) connection(synced bool) rollout.Connection {
	w.mu.Lock()
	// Events are optional: without them the detail shows none, the rest still works.
	for _, resource := range []string{"deployments", "replicasets", "pods"} {
		if msg, ok := w.forbidden[resource]; ok {
			w.mu.Unlock()
			return rollout.Connection{State: rollout.ConnForbidden, Message: msg, Hint: forbiddenHint}
		}
	}
	w.mu.Unlock()
	if since, err := w.cluster.Health.Failing(); !since.IsZero() {
		return rollout.Connection{State: rollout.ConnReconnecting, Since: since, Message: w.cluster.ExplainError(err).Error()}
	}
	if !synced {
		return rollout.Connection{State: rollout.ConnSyncing}
	}
	return rollout.Connection{State: rollout.ConnLive}
}

// newInformer caches one kind of object in the watched namespace (all when ""), slimmed
// by stripForCache. tweak narrows what is listed and watched.
func newInformer[T, L runtime.Object](api kubeapi.API, res kubeapi.Resource[T, L], example T, tweak func(*metav1.ListOptions)) cache.SharedIndexInformer {
	if tweak == nil {
		tweak = func(*metav1.ListOptions) {}
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			tweak(&opts)
			return res.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			tweak(&opts)
			return res.Watch(ctx, opts)
		},
	}
	informer := cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, api), example, cache.SharedIndexInformerOptions{})
	_ = informer.SetTransform(stripForCache)
	return informer
}

// cached lists an informer's objects as their type.
func cached[T any](informer cache.SharedIndexInformer) []T {
	items := informer.GetStore().List()
	out := make([]T, 0, len(items))
	for _, item := range items {
		if t, ok := item.(T); ok {
			out = append(out, t)
		}
	}
	return out
}
