package detail

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// The snapshot's Warnings slice has spare capacity (the Builder reuses its backing
// array): rendering a python_info warning must not write into it.
func TestRenderDoesNotWriteIntoTheSnapshotsWarnings(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	warnings := make([]safetext.Text, 1, 4)
	warnings[0] = "tag 1.8.0 runs two digests"
	r := rollout.Rollout{Kind: ref.Deployment, Namespace: "demo", Name: "orders-api", CanaryRevision: 2,
		Revisions: []rollout.Revision{{Number: 2, Role: rollout.RoleCanary, Pods: []*rollout.Pod{{Name: "orders-api-a", Ready: true}},
			Provenance: provenance.Provenance{GitSHA: "3f2a9c1b7e5d", Python: "3.11.10", Warnings: warnings}}}}
	report := metrics.Report{At: now, Revisions: map[metrics.Key]metrics.Revision{
		metrics.KeyOf(&r, 2): {State: metrics.StateOK, Python: "3.11.2"},
	}}
	for range 2 {
		got := ansi.Strip(Render(styles.New(styles.Options{}), Input{Rollout: r, Verdicts: guard.JudgeRound([]rollout.Rollout{r}, report, guard.Thresholds{}), Now: now}, 120))
		if strings.Count(got, "runs Python 3.11.2") != 1 || !strings.Contains(got, "tag 1.8.0 runs two digests") {
			t.Errorf("the page should warn once about the tag and once about python_info:\n%s", got)
		}
	}
	if spare := warnings[:2][1]; spare != "" {
		t.Errorf("Render wrote %q into the snapshot's Warnings backing array", spare)
	}
}
