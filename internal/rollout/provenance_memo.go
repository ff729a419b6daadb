package rollout

import (
	"hash/maphash"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/provenance"
)

// Reading and cleaning a revision's provenance costs more than the rest of Build for it,
// and it changes only when the ReplicaSet or its pods' image IDs do: Build, called on every
// burst of events, reuses the last answer for the same ReplicaSet version and image IDs.
var provenanceMemo = struct {
	sync.Mutex
	m map[provenanceKey]provenance.Provenance
}{m: map[provenanceKey]provenance.Provenance{}}

type provenanceKey struct {
	uid             types.UID
	resourceVersion string
	images          uint64 // hash of the pods' image IDs, in pod order
}

// maxMemo bounds the memo: past it, it starts over (a cluster has far fewer live revisions).
const maxMemo = 20000

var imageSeed = maphash.MakeSeed()

func revisionProvenance(rs *appsv1.ReplicaSet, pods []*corev1.Pod) provenance.Provenance {
	var h maphash.Hash
	h.SetSeed(imageSeed)
	for _, p := range pods {
		for _, cs := range p.Status.ContainerStatuses {
			h.WriteString(p.Name)
			h.WriteString(cs.Name)
			h.WriteString(cs.ImageID)
		}
	}
	key := provenanceKey{uid: rs.UID, resourceVersion: rs.ResourceVersion, images: h.Sum64()}
	if rs.UID == "" || rs.ResourceVersion == "" {
		return provenance.FromTemplate(&rs.Spec.Template, RunningImages(pods))
	}
	provenanceMemo.Lock()
	p, ok := provenanceMemo.m[key]
	provenanceMemo.Unlock()
	if ok {
		return p
	}
	p = provenance.FromTemplate(&rs.Spec.Template, RunningImages(pods))
	provenanceMemo.Lock()
	if len(provenanceMemo.m) >= maxMemo {
		clear(provenanceMemo.m)
	}
	provenanceMemo.m[key] = p
	provenanceMemo.Unlock()
	return p
}
