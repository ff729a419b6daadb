package rollout

import (
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/provenance"
)

// PodFacts is what a snapshot needs of one pod, read from it once, when the pod changes:
// its view, the ReplicaSet that owns it and the image IDs its containers run. The watch
// cache keeps these instead of the API objects (about 600 bytes a pod instead of 1,900),
// and each snapshot copies the views instead of reading every pod again.
type PodFacts struct {
	Namespace string
	// Owner is the UID of the controlling ReplicaSet ("" when none).
	Owner types.UID
	// seq tells these facts from all others (FactsOf numbers each read of a pod): a
	// Builder reuses a revision while its pods' facts are the same ones. (Next to Owner,
	// which each Build reads too: one cache line for both.)
	seq    uint64
	View   Pod
	Images []provenance.RunningImage
}

var factsSeq atomic.Uint64

// GetObjectMeta gives a watch cache the namespace and name it keys pods by (client-go's
// meta.Accessor). Built on demand: kept in every PodFacts it would double their size.
func (f *PodFacts) GetObjectMeta() metav1.Object {
	return &metav1.ObjectMeta{Name: f.View.Name, Namespace: f.Namespace}
}

// FactsOf reads a pod.
func FactsOf(p *corev1.Pod) *PodFacts {
	f := &PodFacts{
		Namespace: p.Namespace,
		View:      BuildPod(p),
		Images:    runningImagesOf(p, nil),
		seq:       factsSeq.Add(1),
	}
	if owner := metav1.GetControllerOfNoCopy(p); owner != nil && owner.Kind == "ReplicaSet" {
		f.Owner = owner.UID
	}
	return f
}

func runningImagesOf(p *corev1.Pod, out []provenance.RunningImage) []provenance.RunningImage {
	for _, cs := range p.Status.ContainerStatuses {
		if cs.ImageID != "" {
			out = append(out, provenance.RunningImage{Pod: p.Name, Container: cs.Name, ImageID: cs.ImageID})
		}
	}
	return out
}

func runningImages(pods []*PodFacts) []provenance.RunningImage {
	var out []provenance.RunningImage
	for _, p := range pods {
		out = append(out, p.Images...)
	}
	return out
}
