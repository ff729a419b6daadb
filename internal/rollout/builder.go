package rollout

import (
	"cmp"
	"hash/maphash"
	"slices"
	"sync/atomic"
	"time"
	"unsafe"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/provenance"
)

// Builder builds one snapshot after another from a watch cache, reusing the provenance
// of a revision whose ReplicaSet and pods' image IDs did not change since the previous
// snapshot: reading and cleaning it costs more than the rest of the revision. A revision
// whose ReplicaSet (the same resourceVersion) and pods (the same facts: the cache reads a
// pod again each time it changes) are all unchanged is reused whole, its pod views
// included: at 50,000 pods, copying, sorting and hashing every revision's pods again after
// each pod change made most of a rebuild's time and garbage. (Pod views are not reused one
// by one: a map lookup per pod costs as much as building the view.) The reused views are
// shared by the snapshots: read only. A Builder is used by one goroutine at a time.
type Builder struct {
	// NotReadyGrace is how long a canary pod may stay not ready before its rollout is
	// Degraded (default NotReadyGrace).
	NotReadyGrace time.Duration
	// BakeTime is the bake time of a release without the pyroll.dev/bake-time annotation
	// (the config's, else DefaultBakeTime, as the caller decides); 0: none.
	BakeTime time.Duration
	// clock is the last Build's grace clock: what NextDeadline reports.
	clock graceClock

	reuse bool
	// What the previous Build made, and what this one makes (the next generation keeps
	// only revisions still there, so the memory follows the cluster).
	provenance, nextProvenance map[provenanceKey]provenance.Provenance
	// revisions by ReplicaSet UID (pointers: a Revision is too large for a map to hold in
	// place, and a reused one is then not copied); events by rollout UID; rollouts by
	// Deployment UID.
	revisions, nextRevisions map[types.UID]*builtRevision
	events, nextEvents       map[types.UID]builtEvents
	rollouts, nextRollouts   map[types.UID]*builtRollout
}

// builtRevision is a revision as buildRevision made it, and from what.
type builtRevision struct {
	resourceVersion string // the ReplicaSet's
	pods            podsKey
	rev             Revision
}

// podsKey identifies a set of pod facts, whatever their order: how many, and two sums of
// their mixed sequence numbers (FactsOf numbers each facts it makes).
type podsKey struct {
	n        int
	sum, xor uint64
}

// keyOfPods is the set's key; false when a facts has no number (not made by FactsOf).
func keyOfPods(pods []*PodFacts) (podsKey, bool) {
	k := podsKey{n: len(pods)}
	for _, p := range pods {
		if p.seq == 0 {
			return podsKey{}, false
		}
		m := mix64(p.seq)
		k.sum += m
		k.xor ^= mix64(m)
	}
	return k, true
}

// mix64 is splitmix64's finalizer: distinct inputs, well spread outputs.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// sameRevision is the previous snapshot's revision of the ReplicaSet, when neither the
// ReplicaSet nor its pods changed since.
func (b *Builder) sameRevision(rs *appsv1.ReplicaSet, pods []*PodFacts) (Revision, bool) {
	if !b.reuse || rs.UID == "" || rs.ResourceVersion == "" {
		return Revision{}, false
	}
	prev, found := b.revisions[rs.UID]
	if !found || prev.resourceVersion != rs.ResourceVersion {
		return Revision{}, false
	}
	if key, ok := keyOfPods(pods); !ok || key != prev.pods {
		return Revision{}, false
	}
	b.nextRevisions[rs.UID] = prev
	return prev.rev, true
}

// keepRevision remembers the revision for the next snapshot.
func (b *Builder) keepRevision(rs *appsv1.ReplicaSet, pods []*PodFacts, rev Revision) {
	if !b.reuse || rs.UID == "" || rs.ResourceVersion == "" {
		return
	}
	if key, ok := keyOfPods(pods); ok {
		b.nextRevisions[rs.UID] = &builtRevision{resourceVersion: rs.ResourceVersion, pods: key, rev: rev}
	}
}

// NewBuilder returns a Builder that reuses from one Build to the next.
func NewBuilder() *Builder { return &Builder{reuse: true} }

type provenanceKey struct {
	uid             types.UID
	resourceVersion string
	images          uint64 // hash of the pods' image IDs, in pod order
}

var imageSeed = maphash.MakeSeed()

// NextDeadline is when the last Build's answer changes by the clock alone: the first
// moment a not-ready canary pod's grace ends or a bake window ends (zero when none is
// waiting). The watcher rebuilds then, so a release whose pods stay un-ready with no
// further events still turns Degraded, and a baked release turns Complete.
func (b *Builder) NextDeadline() time.Time { return b.clock.next }

func (b *Builder) begin(replicaSets int) {
	if b.reuse {
		b.nextProvenance = make(map[provenanceKey]provenance.Provenance, replicaSets)
		b.nextRevisions = make(map[types.UID]*builtRevision, replicaSets)
		b.nextEvents = make(map[types.UID]builtEvents, len(b.events))
		b.nextRollouts = make(map[types.UID]*builtRollout, len(b.rollouts))
	}
}

func (b *Builder) end() {
	if b.reuse {
		b.provenance, b.nextProvenance = b.nextProvenance, nil
		b.revisions, b.nextRevisions = b.nextRevisions, nil
		b.events, b.nextEvents = b.nextEvents, nil
		b.rollouts, b.nextRollouts = b.nextRollouts, nil
	}
}

// revisionProvenance is the revision's build, or the previous answer for the same
// ReplicaSet version and image IDs.
func (b *Builder) revisionProvenance(rs *appsv1.ReplicaSet, pods []*PodFacts) provenance.Provenance {
	if !b.reuse || rs.UID == "" || rs.ResourceVersion == "" {
		return provenance.FromTemplate(&rs.Spec.Template, runningImages(pods))
	}
	var h maphash.Hash
	h.SetSeed(imageSeed)
	for _, p := range pods {
		for _, image := range p.Images {
			h.WriteString(image.Pod)
			h.WriteString(image.Container)
			h.WriteString(image.ImageID)
		}
	}
	key := provenanceKey{rs.UID, rs.ResourceVersion, h.Sum64()}
	p, ok := b.provenance[key]
	if !ok {
		p = provenance.FromTemplate(&rs.Spec.Template, runningImages(pods))
	}
	b.nextProvenance[key] = p
	return p
}

// builtEvents is a rollout's events as recentEvents read them, and from which groups.
type builtEvents struct {
	from   []sliceID[*corev1.Event]
	events []Event
}

// sliceID identifies a slice by where its elements live and how many: a watcher's index
// hands over the very same slice while a group did not change and a new one when it did,
// never writing one it handed over (kube's ownerIndex), and the watch cache replaces an
// object rather than writing it; holding the pointer keeps the old array from being freed
// and its address reused. So the same ID is the same contents.
type sliceID[T any] struct {
	first *T
	n     int
}

func idOf[T any](s []T) sliceID[T] { return sliceID[T]{first: unsafe.SliceData(s), n: len(s)} }

// byAddress orders pointers by address: a set of objects or groups compared from one Build
// to the next, whatever order the cache lists them in.
func byAddress[T any](a, b *T) int {
	return cmp.Compare(uintptr(unsafe.Pointer(a)), uintptr(unsafe.Pointer(b)))
}

// recentEvents is the package's recentEvents, or the previous Build's answer when the
// events are grouped by a watcher (shared) and the rollout's groups are the same ones:
// sorting and making every rollout's events safe again on every snapshot was a fifth of a
// rebuild under churn.
func (b *Builder) recentEvents(uid types.UID, replicaSets []*appsv1.ReplicaSet, byObject map[types.UID][]*corev1.Event, shared bool) []Event {
	if !b.reuse || !shared || uid == "" {
		return recentEvents(uid, replicaSets, byObject)
	}
	from := make([]sliceID[*corev1.Event], 0, 1+len(replicaSets))
	add := func(owner types.UID) {
		if group := byObject[owner]; len(group) > 0 {
			from = append(from, idOf(group))
		}
	}
	add(uid)
	for _, rs := range replicaSets {
		add(rs.UID)
	}
	// The ReplicaSets come in the cache's order, which changes from one Build to the next.
	slices.SortFunc(from, func(a, b sliceID[*corev1.Event]) int { return byAddress(a.first, b.first) })
	if prev, ok := b.events[uid]; ok && slices.Equal(prev.from, from) {
		b.nextEvents[uid] = prev
		return prev.events
	}
	events := recentEvents(uid, replicaSets, byObject)
	b.nextEvents[uid] = builtEvents{from: from, events: events}
	return events
}

// builtRollout is a Deployment's rollout as buildDeployment made it, and from what; and
// the Version it went out with, with which events.
type builtRollout struct {
	from    rolloutInputs
	rollout Rollout
	version uint64
	events  sliceID[Event]
}

// versions numbers rollouts' contents (Rollout.Version) for every Builder of the process:
// two clusters' builders never give one number to two rollouts.
var versions atomic.Uint64

// versionOf is the Version of a rollout going out with events: the one it went out with
// last time when kept is the previous Build's (a rollout just built has none yet) and the
// events are the very same, else a new one, kept for the next Build (kept nil: not kept).
func versionOf(kept *builtRollout, events []Event) uint64 {
	if kept != nil && kept.version != 0 && kept.events == idOf(events) {
		return kept.version
	}
	v := versions.Add(1)
	if kept != nil {
		kept.version, kept.events = v, idOf(events)
	}
	return v
}

// rolloutInputs are what a Deployment's rollout is built from, by identity (see sliceID):
// the watch cache's objects and the pod groups of a watcher's index.
type rolloutInputs struct {
	deployment  *appsv1.Deployment
	replicaSets []*appsv1.ReplicaSet // by address: the cache's order changes between Builds
	pods        []sliceID[*PodFacts] // each ReplicaSet's, in the same order
	podsSyncing bool
}

func rolloutInputsOf(d *appsv1.Deployment, replicaSets []*appsv1.ReplicaSet, podsByOwner map[types.UID][]*PodFacts, podsSyncing bool) rolloutInputs {
	in := rolloutInputs{deployment: d, replicaSets: slices.Clone(replicaSets), podsSyncing: podsSyncing}
	slices.SortFunc(in.replicaSets, byAddress)
	in.pods = make([]sliceID[*PodFacts], len(in.replicaSets))
	for i, rs := range in.replicaSets {
		in.pods[i] = idOf(podsByOwner[rs.UID])
	}
	return in
}

func (in rolloutInputs) same(other rolloutInputs) bool {
	return in.deployment == other.deployment && in.podsSyncing == other.podsSyncing &&
		slices.Equal(in.replicaSets, other.replicaSets) && slices.Equal(in.pods, other.pods)
}

// deploymentRollout is buildDeployment's answer, or the previous Build's when the
// Deployment, its ReplicaSets and their pod groups are the same ones (the pods grouped by a
// watcher: shared) and that answer did not depend on the time (no grace running, no bake
// window: graceClock.consulted). Under churn a few rollouts of hundreds change between two
// snapshots; rebuilding every one was most of a rebuild's time.
// It also returns what the next Build will compare with (nil: nothing, the answer
// depended on the time): the previous Build's record when the rollout is its.
func (b *Builder) deploymentRollout(d *appsv1.Deployment, replicaSets []*appsv1.ReplicaSet, podsByOwner map[types.UID][]*PodFacts, shared bool, now time.Time) (r Rollout, kept *builtRollout) {
	if !b.reuse || !shared || d.UID == "" {
		return b.buildDeployment(d, replicaSets, podsByOwner, now), nil
	}
	from := rolloutInputsOf(d, replicaSets, podsByOwner, b.clock.podsSyncing)
	if prev, ok := b.rollouts[d.UID]; ok && prev.from.same(from) {
		b.nextRollouts[d.UID] = prev
		// Its revisions stay known, for the build after one of them changes.
		for _, rs := range replicaSets {
			if rev, ok := b.revisions[rs.UID]; ok {
				b.nextRevisions[rs.UID] = rev
			}
		}
		return prev.rollout, prev
	}
	consulted := b.clock.consulted
	r = b.buildDeployment(d, replicaSets, podsByOwner, now)
	if b.clock.consulted == consulted {
		kept = &builtRollout{from: from, rollout: r}
		b.nextRollouts[d.UID] = kept
	}
	return r, kept
}
