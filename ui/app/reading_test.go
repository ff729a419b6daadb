package app

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// readingRollouts are the demo rollouts as the watcher sends them before the pods are read:
// their status, no pods, each reading its pods.
func readingRollouts() []rollout.Rollout {
	rs := demoRollouts()
	for i := range rs {
		rs[i].Pods = rollout.PodsSyncing
		for j := range rs[i].Revisions {
			rs[i].Revisions[j].Pods = nil
		}
	}
	return rs
}

// At 80x24, before the pods are read: every rollout's row with its ready/desired count from
// the status and "reading…" where the health bar will be, the footer counting the pods
// read so far; then the pods' snapshot puts the bars in their place and says live.
func TestConsoleShowsTheRowsWhileThePodsAreRead(t *testing.T) {
	m := New(Options{Styles: styles.New(styles.Options{ASCII: true}), Context: "pyroll-sandbox", Namespace: "demo", Now: clock})
	m = send(m, tea.WindowSizeMsg{Width: 80, Height: 24})
	m = send(m, SnapshotMsg(rollout.Snapshot{Rollouts: readingRollouts(), PodsSyncing: true, PodsRead: 23000, At: clock,
		Conn: rollout.Connection{State: rollout.ConnSyncing}}))
	s := text(m)
	for _, r := range demoRollouts() {
		row := rowOf(s, r.Name)
		if !strings.Contains(row, "reading…") {
			t.Errorf("%s's row %q; want its pods cell reading:\n%s", r.Name, row, s)
		}
	}
	if row := rowOf(s, "orders-api"); !strings.Contains(row, "5/4") || !strings.Contains(row, "Halted") {
		t.Errorf("orders-api's row %q; want Halted, 5/4 ready from the status", row)
	}
	if !strings.Contains(s, "reading pods 23,000…") || strings.Contains(s, "live") {
		t.Errorf("footer; want \"reading pods 23,000…\", not live:\n%s", s)
	}

	m = send(m, SnapshotMsg(rollout.Snapshot{Rollouts: demoRollouts(), Synced: true, At: clock, Conn: rollout.Connection{State: rollout.ConnLive}}))
	s = text(m)
	if strings.Contains(s, "reading") || !strings.Contains(rowOf(s, "payments-api"), "3/3   ###") || !strings.Contains(s, "live") {
		t.Errorf("after the pods: want the health bars and live, nothing reading:\n%s", s)
	}
}

// The detail of a rollout whose pods are still being read says so, not "no pods".
func TestDetailSaysItIsReadingThePods(t *testing.T) {
	m := New(Options{Styles: styles.New(styles.Options{ASCII: true}), Context: "pyroll-sandbox", Namespace: "demo", Now: clock})
	m = send(m, tea.WindowSizeMsg{Width: 100, Height: 60})
	m = send(m, SnapshotMsg(rollout.Snapshot{Rollouts: readingRollouts(), PodsSyncing: true, At: clock, Conn: rollout.Connection{State: rollout.ConnSyncing}}), press("enter"))
	s := text(m)
	if !strings.Contains(s, "reading pods…") || strings.Contains(s, "no pods") {
		t.Errorf("the detail while the pods are read; want \"reading pods…\":\n%s", s)
	}
}

// rowOf is the line of the screen that names the rollout.
func rowOf(screen, name string) string {
	for _, line := range strings.Split(screen, "\n") {
		if strings.Contains(line, name) {
			return line
		}
	}
	return ""
}
