package kube

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	"k8s.io/utils/clock"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// WatchOptions scope a Watcher.
type WatchOptions struct {
	Namespace string // "" for all namespaces
	// Selector selects Deployments (their pods and ReplicaSets follow by ownership).
	Selector labels.Selector
	// Name, when set, watches only the rollouts of that name; Kind, when also set, only the
	// one of that kind (a Deployment and an Argo Rollout may share a name).
	Name string
	Kind ref.Kind
	// Coalesce is the shortest time between two snapshots (default 50ms).
	Coalesce time.Duration
	// NotReadyGrace is how long a canary pod may stay not ready before its rollout is
	// Degraded (default rollout.NotReadyGrace).
	NotReadyGrace time.Duration
	// BakeTime is the bake window of a release without the pyroll.dev/bake-time
	// annotation (0: none).
	BakeTime time.Duration
	// Now stamps the snapshots (default Clock.Now).
	Now func() time.Time
	// Clock times the coalescing window and the connection poll (default the real clock);
	// tests move a fake one.
	Clock clock.WithTicker
}

// Watcher turns informer events into coalesced snapshots.
type Watcher struct {
	cluster *Cluster
	opts    WatchOptions
	dirty   chan struct{}

	mu        sync.Mutex
	forbidden map[string]string // resource -> message
	// link holds the informers' lists and watches while the API server does not answer;
	// feeds say which informers have not read the cluster again since (by resource).
	link  *link
	feeds map[string]*feed
	// ready asks the API server now and then whether it is ready (its etcd reachable).
	ready *readiness
	// lastProgress is when the count of pods read was last redrawn (pokeProgress).
	lastProgress time.Time

	// handled counts the informer events handled (marked dirty): tests wait on it to know a
	// burst was delivered.
	handled atomic.Int64
	// syncedInformers counts the informers whose handler has seen their whole first list
	// (and marked the watcher dirty for it): tests wait on it to know no sync is pending.
	syncedInformers atomic.Int64
}

// NewWatcher prepares a watcher; Run starts it.
func NewWatcher(c *Cluster, opts WatchOptions) *Watcher {
	if opts.Coalesce == 0 {
		opts.Coalesce = 50 * time.Millisecond
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Now == nil {
		opts.Now = opts.Clock.Now
	}
	if opts.Selector == nil {
		opts.Selector = labels.Everything()
	}
	w := &Watcher{cluster: c, opts: opts, dirty: make(chan struct{}, 1), forbidden: map[string]string{}, feeds: map[string]*feed{}}
	w.link = &link{clock: opts.Clock, probe: func(ctx context.Context) error {
		_, err := c.Client.ServerVersion(ctx)
		return err
	}}
	w.ready = &readiness{ask: c.Client.Readiness, clock: opts.Clock}
	return w
}

// Run watches until ctx ends, sending a snapshot after each burst of changes and whenever
// the connection state changes. The channel closes when ctx ends.
func (w *Watcher) Run(ctx context.Context) <-chan rollout.Snapshot {
	out := make(chan rollout.Snapshot, 1)
	w.link.ctx = ctx
	builder := rollout.NewBuilder()
	builder.NotReadyGrace = w.opts.NotReadyGrace
	builder.BakeTime = w.opts.BakeTime
	loop := &watchLoop{w: w, out: out, informers: w.newInformers(), builder: builder, lastRV: map[string]string{}}
	var podsSynced cache.DoneChecker
	for _, wi := range loop.informers.table() {
		synced := w.handle(wi, loop.informers.indexes)
		switch wi.resource {
		case "pods":
			podsSynced = synced
		case "events":
			// Events are the detail's, never the list's: their first list waits for the
			// pods', which the full frame waits for (at 10,000 pods the API server walks
			// every pod's Scheduled event to filter them out, and the ReplicaSets' "Created
			// pod" events stream beside the pods). A user who may not list pods sees no
			// events either: the footer already says the pods are forbidden.
			loop.startAfter(ctx, wi, synced, podsSynced)
			continue
		}
		loop.start(ctx, wi, synced)
	}
	go func() {
		defer close(out)
		defer loop.running.Wait()
		loop.run(ctx)
	}()
	return out
}

// informers are the watcher's caches: the Deployments in scope, ReplicaSets and Pods (which
// the builder ties to them by ownership), Events, and on a cluster that serves Argo
// Rollouts to this user, Rollouts and AnalysisRuns.
type informers struct {
	deployments, replicaSets, pods, events cache.SharedIndexInformer
	// indexes group the pods and events by owner as they change (ownerIndex).
	indexes *indexes
	// rollouts and analysisRuns are nil until discovery finds Argo Rollouts readable, and
	// stay nil on a cluster without them: nothing waits on an informer that cannot list.
	rollouts, analysisRuns cache.SharedIndexInformer
}

// watchedInformer is one informer and the resource it caches.
type watchedInformer struct {
	resource string
	informer cache.SharedIndexInformer
}

// selectRollouts narrows a list of rollouts (of either kind) to the scope: the label
// selector, and the name when one rollout is watched.
func (w *Watcher) selectRollouts(o *metav1.ListOptions) {
	o.LabelSelector = w.opts.Selector.String()
	if w.opts.Name != "" {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", w.opts.Name).String()
	}
}

func (w *Watcher) newInformers() informers {
	api, ns := w.cluster.Client, w.opts.Namespace
	return informers{
		deployments: newInformer(api, api.Deployments(ns), &appsv1.Deployment{}, w.selectRollouts, w.newFeed("deployments")),
		replicaSets: newInformer(api, api.ReplicaSets(ns), &appsv1.ReplicaSet{}, nil, w.newFeed("replicasets")),
		pods:        newInformer(api, api.Pods(ns), &corev1.Pod{}, nil, w.newPodsFeed()),
		// Events of Deployments and ReplicaSets only: pod events are most of a busy
		// namespace's and the views do not show them.
		events:  newInformer(api, api.Events(ns), &corev1.Event{}, func(o *metav1.ListOptions) { o.FieldSelector = "involvedObject.kind!=Pod" }, w.newFeed("events")),
		indexes: &indexes{pods: newPodIndex(), events: newEventIndex()},
	}
}

// indexes are the watcher's groupings of pods and events by owner, and whether the pods'
// grouping has seen the whole first list.
type indexes struct {
	pods   *ownerIndex[*rollout.PodFacts]
	events *ownerIndex[*corev1.Event]
	// podsHandled is the registration of the pods' handler (nil until Run adds it): the
	// pods are synced for a snapshot only once it has seen every pod of the first list,
	// which the informer's own store has a moment earlier.
	podsHandled cache.ResourceEventHandlerRegistration
}

// newFeed follows the lists and watches of the informer of resource.
func (w *Watcher) newFeed(resource string) *feed {
	f := &feed{resource: resource, link: w.link, clock: w.opts.Clock}
	w.mu.Lock()
	w.feeds[resource] = f
	w.mu.Unlock()
	return f
}

// podsProgress is how many pods stream between two looks at the clock while the pods
// still stream; progressRedraw is the shortest time between two redraws of the count
// ("reading pods 23,000…"). Each redraw rebuilds every row and redraws the list: at
// 50,000 pods, one every 1,000 pods was fifty of them, CPU taken from reading the pods.
const (
	podsProgress   = 1000
	progressRedraw = 500 * time.Millisecond
)

// newPodsFeed is the pods' feed, which marks the watcher dirty as the pods of a first list
// stream in, at most every progressRedraw.
func (w *Watcher) newPodsFeed() *feed {
	f := w.newFeed("pods")
	f.progressEvery, f.progress = podsProgress, w.pokeProgress
	return f
}

// pokeProgress marks the watcher dirty for the count of pods read, at most every
// progressRedraw.
func (w *Watcher) pokeProgress() {
	now := w.opts.Clock.Now()
	w.mu.Lock()
	due := w.lastProgress.IsZero() || now.Sub(w.lastProgress) >= progressRedraw
	if due {
		w.lastProgress = now
	}
	w.mu.Unlock()
	if due {
		w.poke()
	}
}

func (i informers) table() []watchedInformer {
	table := []watchedInformer{
		{"deployments", i.deployments},
		{"replicasets", i.replicaSets},
		{"pods", i.pods},
		{"events", i.events},
	}
	return append(table, i.argoTable()...)
}

func (i informers) argoTable() []watchedInformer {
	if i.rollouts == nil {
		return nil
	}
	return []watchedInformer{{"rollouts", i.rollouts}, {"analysisruns", i.analysisRuns}}
}

// newArgoInformers caches the Rollouts in scope (selected as the Deployments are) and
// every AnalysisRun (the builder ties them to their Rollout by ownership).
func (w *Watcher) newArgoInformers(i *informers) {
	api, ns := w.cluster.Client, w.opts.Namespace
	i.rollouts = newInformer(api, api.Rollouts(ns), &argo.Rollout{}, w.selectRollouts, w.newFeed("rollouts"))
	i.analysisRuns = newInformer(api, api.AnalysisRuns(ns), &argo.AnalysisRun{}, nil, w.newFeed("analysisruns"))
}

// synced says whether every informer but the events' and the analysis runs' has listed once.
func (i informers) synced() bool {
	for _, wi := range i.table() {
		if required(wi.resource) && !wi.informer.HasSynced() {
			return false
		}
	}
	return i.indexes.podsHandled != nil && i.indexes.podsHandled.HasSynced()
}

// rowsSynced says whether every required informer but the pods' has listed once: the
// rollouts (Deployments, Argo Rollouts) and their ReplicaSets, a few hundred objects that
// arrive in well under a second, enough for every rollout's row from its status while the
// pods (tens of thousands on a large cluster) still stream.
func (i informers) rowsSynced() bool {
	for _, wi := range i.table() {
		if required(wi.resource) && wi.resource != "pods" && !wi.informer.HasSynced() {
			return false
		}
	}
	return true
}

// required says whether the rollouts cannot be shown without resource. Events and
// AnalysisRuns are best-effort: a user who may not list them still sees rollouts (discovery
// asks only about rollouts; an RBAC role may grant them alone).
func required(resource string) bool { return resource != "events" && resource != "analysisruns" }

// objects are what the caches hold. With podsSyncing the pods are left out (client-go hands
// the streamed pods to the cache in one piece at the end of the list; until its handlers
// have them all, a part would only cost a build): the rows come from the status.
func (i informers) objects(podsSyncing bool) rollout.Objects {
	objs := rollout.Objects{
		Deployments:    cached[*appsv1.Deployment](i.deployments),
		ReplicaSets:    cached[*appsv1.ReplicaSet](i.replicaSets),
		EventsByObject: i.indexes.events.grouped(),
		PodsSyncing:    podsSyncing,
	}
	if !podsSyncing {
		objs.PodsByOwner = i.indexes.pods.grouped()
	}
	if i.rollouts != nil {
		objs.Rollouts = cached[*argo.Rollout](i.rollouts)
		objs.AnalysisRuns = cached[*argo.AnalysisRun](i.analysisRuns)
	}
	return objs
}

// handle marks the watcher dirty on every change of the informer's objects (the pods and
// events once their index has it), and records a forbidden watch. It returns what
// completes once the informer has listed and the handler has seen every object of that
// list (nil if the handler could not be added).
func (w *Watcher) handle(wi watchedInformer, idx *indexes) cache.DoneChecker {
	resource := wi.resource
	changed := func() { w.changed(resource) }
	var handler cache.ResourceEventHandler = cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { changed() },
		UpdateFunc: func(any, any) { changed() },
		DeleteFunc: func(any) { changed() },
	}
	switch resource {
	case "pods":
		handler = idx.pods.handler(changed)
	case "events":
		handler = idx.events.handler(changed)
	}
	reg, err := wi.informer.AddEventHandler(handler)
	if resource == "pods" {
		idx.podsHandled = reg
	}
	_ = wi.informer.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) {
		w.watchFailed(resource, err)
	})
	if err != nil {
		return nil
	}
	return reg.HasSyncedChecker()
}

// connPoll is how often the loop looks at the connection state and at forbidden resources:
// a wake-up of an idle console, so once a second (the footer counts a reconnect in seconds).
const connPoll = time.Second

// watchLoop is Run's goroutine: it turns dirty marks and connection changes into snapshots.
type watchLoop struct {
	w         *Watcher
	out       chan<- rollout.Snapshot
	informers informers
	builder   *rollout.Builder
	lastRV    map[string]string // resource -> the resource version its informer last listed at
	lastConn  rollout.Connection
	lastEmit  time.Time // on the watcher's clock
	running   sync.WaitGroup
	// argo is the discovery of Argo Rollouts: asked once at start and again, on the
	// connection poll, while the API server gives no answer.
	argo argoDiscovery
}

// start runs an informer until ctx ends, and marks the watcher dirty once it has synced
// (its handler has seen the whole first list): an informer whose list ends without an
// object (no Deployments, only Argo Rollouts) sends no event, and its sync may be what
// lets the rows, or the whole picture, show.
func (l *watchLoop) start(ctx context.Context, wi watchedInformer, synced cache.DoneChecker) {
	l.startAfter(ctx, wi, synced, nil)
}

// startAfter is start once first is done (nil: at once).
func (l *watchLoop) startAfter(ctx context.Context, wi watchedInformer, synced, first cache.DoneChecker) {
	l.running.Go(func() {
		if first != nil {
			select {
			case <-first.Done():
			case <-ctx.Done():
				return
			}
		}
		wi.informer.RunWithContext(ctx)
	})
	if synced == nil {
		return
	}
	l.running.Go(func() {
		select {
		case <-synced.Done():
			if required(wi.resource) {
				l.w.poke()
			}
			l.w.syncedInformers.Add(1)
		case <-ctx.Done():
		}
	})
}

func (l *watchLoop) run(ctx context.Context) {
	tick := l.w.opts.Clock.NewTicker(connPoll)
	defer tick.Stop()
	l.discoverArgo(ctx)
	l.emit(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.w.dirty:
			if !l.onDirty(ctx) {
				return
			}
		case <-tick.C():
			l.onTick(ctx)
		}
	}
}

// onDirty waits out the rest of the coalescing window since the last snapshot, then sends
// one snapshot for whatever changed meanwhile. It returns false when ctx ends first.
func (l *watchLoop) onDirty(ctx context.Context) bool {
	if wait := l.w.opts.Coalesce - l.w.opts.Clock.Since(l.lastEmit); wait > 0 {
		select {
		case <-l.w.opts.Clock.After(wait):
		case <-ctx.Done():
			return false
		}
	}
	// Merge whatever else arrived during the window into this snapshot.
	select {
	case <-l.w.dirty:
	default:
	}
	l.emit(ctx)
	return true
}

// onTick clears the forbidden resources that listed again, and sends a snapshot when the
// connection state changed or when the last snapshot's answer changes by the clock alone
// (a not-ready canary pod's grace ended: Degraded with no API event to say so).
func (l *watchLoop) onTick(ctx context.Context) {
	l.w.ready.poll(ctx)
	if l.discoverArgo(ctx) {
		l.emit(ctx)
		return
	}
	if due := l.builder.NextDeadline(); !due.IsZero() && !l.w.opts.Now().Before(due) {
		l.emit(ctx)
		return
	}
	// A forbidden resource clears once its informer lists again.
	for _, wi := range l.informers.table() {
		rv := wi.informer.LastSyncResourceVersion()
		if rv != l.lastRV[wi.resource] {
			l.lastRV[wi.resource] = rv
			l.w.clearForbidden(wi.resource)
		}
	}
	if c := l.w.connection(l.informers.synced()); c.State != l.lastConn.State || c.Message != l.lastConn.Message {
		l.emit(ctx)
	}
}

// emit builds a snapshot from the caches and sends it: every rollout once the rollouts and
// ReplicaSets are synced (while the pods still stream, its rows from their status: the
// snapshot and each rollout say the pods are syncing, with the count read so far), the
// whole picture once every required informer is.
func (l *watchLoop) emit(ctx context.Context) {
	snap := rollout.Snapshot{Synced: l.informers.synced(), At: l.w.opts.Now()}
	snap.Conn = l.w.connection(snap.Synced)
	snap.PodsSyncing = !snap.Synced && l.informers.rowsSynced()
	if snap.PodsSyncing {
		snap.PodsRead = l.w.podsRead()
	}
	if snap.HasRows() {
		snap.Rollouts = l.builder.Build(l.informers.objects(snap.PodsSyncing), snap.At)
		if kind := l.w.opts.Kind; kind != "" {
			snap.Rollouts = slices.DeleteFunc(snap.Rollouts, func(r rollout.Rollout) bool { return r.Kind != kind })
		}
	}
	l.lastConn, l.lastEmit = snap.Conn, l.w.opts.Clock.Now()
	select {
	case l.out <- snap:
	case <-ctx.Done():
	}
}

// forbiddenHint says what the watch needs when the API server refuses it.
const forbiddenHint = "needs list and watch on deployments, replicasets and pods here: ask for them, or pick a namespace you can read with -n"

func (w *Watcher) changed(resource string) {
	w.clearForbidden(resource)
	w.poke()
	w.handled.Add(1)
}

// poke marks the watcher dirty: a snapshot follows, within the coalescing window.
func (w *Watcher) poke() {
	select {
	case w.dirty <- struct{}{}:
	default:
	}
}

// podsRead is how many pods the pods' informer has read so far in its current first list
// (streamed: each counted as it arrives; 0 while a plain list is under way).
func (w *Watcher) podsRead() int {
	w.mu.Lock()
	f := w.feeds["pods"]
	w.mu.Unlock()
	if f == nil {
		return 0
	}
	return f.streamed()
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

// staleFeeds says since when the required informers that have not read the cluster again
// since they lost their watch have been stale, and which.
func (w *Watcher) staleFeeds() (time.Time, []string) {
	w.mu.Lock()
	var feeds []*feed
	for resource, f := range w.feeds {
		if required(resource) {
			feeds = append(feeds, f)
		}
	}
	w.mu.Unlock()
	return staleFeeds(feeds)
}

func (w *Watcher) connection(synced bool) rollout.Connection {
	w.mu.Lock()
	// Events are optional: without them the detail shows none, the rest still works.
	for _, resource := range []string{"deployments", "replicasets", "pods"} {
		if msg, ok := w.forbidden[resource]; ok {
			w.mu.Unlock()
			return rollout.Connection{State: rollout.ConnForbidden, Message: safetext.Line(msg), Hint: forbiddenHint}
		}
	}
	w.mu.Unlock()
	if since, err := w.cluster.Health.Failing(); !since.IsZero() {
		return rollout.Connection{State: rollout.ConnReconnecting, Since: since, Message: safetext.Line(w.cluster.ExplainError(err).Error())}
	}
	if since, reason := w.ready.state(); !since.IsZero() {
		return rollout.Connection{State: rollout.ConnReconnecting, Since: since, Message: safetext.Line(reason)}
	}
	// The API server answers again, but the picture is the old one until every informer
	// has read the cluster again.
	if since, which := w.staleFeeds(); !since.IsZero() {
		return rollout.Connection{State: rollout.ConnReconnecting, Since: since, Message: safetext.Sprintf("the API server answers again; re-reading %s", strings.Join(which, ", "))}
	}
	if !synced {
		return rollout.Connection{State: rollout.ConnSyncing}
	}
	return rollout.Connection{State: rollout.ConnLive}
}

// newInformer caches one kind of object in the watched namespace (all when ""), slimmed
// by stripForCache. tweak narrows what is listed and watched; its lists and watches go
// through f (which holds them while the API server does not answer).
func newInformer[T, L runtime.Object](api kubeapi.API, res kubeapi.Resource[T, L], example T, tweak func(*metav1.ListOptions), f *feed) cache.SharedIndexInformer {
	if tweak == nil {
		tweak = func(*metav1.ListOptions) {}
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			tweak(&opts)
			return f.list(ctx, func(ctx context.Context) (runtime.Object, error) { return res.List(ctx, opts) })
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			tweak(&opts)
			return f.watch(ctx, opts, func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
				return res.Watch(ctx, opts)
			})
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
