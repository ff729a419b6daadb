package rollout

import (
	"hash/maphash"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/provenance"
)

// Builder builds one snapshot after another from a watch cache, reusing the provenance
// of a revision whose ReplicaSet and pods' image IDs did not change since the previous
// snapshot: reading and cleaning it costs more than the rest of the revision. (Pod views
// are not reused: a map lookup per pod costs as much as building the view.) A Builder is
// used by one goroutine at a time.
type Builder struct {
	// NotReadyGrace is how long a canary pod may stay not ready before its rollout is
	// Degraded (default NotReadyGrace).
	NotReadyGrace time.Duration
	// clock is the last Build's grace clock: what NextDeadline reports.
	clock graceClock

	reuse bool
	// What the previous Build made, and what this one makes (the next generation keeps
	// only revisions still there, so the memory follows the cluster).
	provenance, nextProvenance map[provenanceKey]provenance.Provenance
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
// moment a not-ready canary pod's grace ends (zero when none is waiting). The watcher
// rebuilds then, so a release whose pods stay un-ready with no further events still
// turns Degraded.
func (b *Builder) NextDeadline() time.Time { return b.clock.next }

func (b *Builder) begin(replicaSets int) {
	if b.reuse {
		b.nextProvenance = make(map[provenanceKey]provenance.Provenance, replicaSets)
	}
}

func (b *Builder) end() {
	if b.reuse {
		b.provenance, b.nextProvenance = b.nextProvenance, nil
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
