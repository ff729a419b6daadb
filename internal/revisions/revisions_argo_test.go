package revisions

import (
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/rollout/rollouttest"
)

// An Argo Rollout's revisions are numbered by argo's annotation: what changed between its
// stable and canary is found by those numbers.
func TestArgoRolloutHistoryComparesItsRevisions(t *testing.T) {
	objs := rollouttest.SyntheticArgo(1, 5)
	h, err := FromObjects(objs, rollouttest.Epoch.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	from, to, err := h.DefaultPair()
	if err != nil || from != 1 || to != 2 {
		t.Fatalf("DefaultPair = %d, %d, %v; want 1, 2", from, to, err)
	}
	diff, err := h.Diff(from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(diff.Lines(from, to, provenance.ASCIIArrows)) == 0 {
		t.Fatal("no difference between two builds")
	}
}
