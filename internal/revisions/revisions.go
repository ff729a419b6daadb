// Package revisions is one rollout's revisions as read now: their provenance for
// `history`, the "what changed" diff between two of them for `diff` and the console's d
// key, and the material of an incident report. It is pure: kube.ReadOne reads the objects.
package revisions

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// History is a rollout as read now, with each revision's pod template.
type History struct {
	Rollout   rollout.Rollout
	templates map[int64]*corev1.PodTemplateSpec
	running   map[int64][]provenance.RunningImage
}

// FromObjects builds the history of the one rollout in objs (what kube.ReadOne reads).
// Pods belong to a revision by controller reference, as in rollout.Build.
func FromObjects(objs rollout.Objects, now time.Time) (*History, error) {
	// Each pod is read once, for the view and for the digests it runs.
	runningByOwner := map[types.UID][]provenance.RunningImage{}
	objs.PodFacts = slices.Clip(objs.PodFacts) // appending never writes into the caller's array
	for _, p := range objs.Pods {
		facts := rollout.FactsOf(p)
		objs.PodFacts = append(objs.PodFacts, facts)
		runningByOwner[facts.Owner] = append(runningByOwner[facts.Owner], facts.Images...)
	}
	objs.Pods = nil
	built := rollout.Build(objs, now)
	if len(built) != 1 {
		return nil, fmt.Errorf("want one rollout, read %d", len(built))
	}
	h := &History{Rollout: built[0], templates: map[int64]*corev1.PodTemplateSpec{}, running: map[int64][]provenance.RunningImage{}}
	// Revision numbers as the view read them: each kind keeps them in its own annotation.
	numbers := make(map[string]int64, len(built[0].Revisions))
	for _, rev := range built[0].Revisions {
		numbers[rev.ReplicaSet] = rev.Number
	}
	for _, rs := range objs.ReplicaSets {
		n := numbers[rs.Name]
		h.templates[n] = &rs.Spec.Template
		h.running[n] = runningByOwner[rs.UID]
	}
	return h, nil
}

// Templates are the revisions' pod templates by number (read only).
func (h *History) Templates() map[int64]*corev1.PodTemplateSpec { return h.templates }

// DefaultPair is what "what changed" compares without --from/--to: the stable revision
// (else the one before the canary) to the canary.
func (h *History) DefaultPair() (from, to int64, err error) {
	r := h.Rollout
	to = r.CanaryRevision
	from = r.StableRevision
	if from == 0 || from == to {
		from = 0
		for _, rev := range r.Revisions {
			if rev.Number < to && rev.Number > from {
				from = rev.Number
			}
		}
	}
	if to == 0 || from == 0 {
		return 0, 0, fmt.Errorf("%s/%s has only one revision: nothing to compare", r.Namespace, r.Name)
	}
	return from, to, nil
}

// Diff is what changed from one revision to another.
func (h *History) Diff(from, to int64) (provenance.Diff, error) {
	a, okA := h.templates[from]
	b, okB := h.templates[to]
	if !okA || !okB {
		missing := from
		if okA {
			missing = to
		}
		return provenance.Diff{}, fmt.Errorf("%s/%s has no revision %d (it has %s)", h.Rollout.Namespace, h.Rollout.Name, missing, h.numbers())
	}
	return provenance.Compare(a, b, h.running[from], h.running[to]), nil
}

func (h *History) numbers() string {
	var ns []int64
	for n := range h.templates {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(parts, ", ")
}
