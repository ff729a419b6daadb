package app

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/rollout/rollouttest"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

func bigSnapshot() rollout.Snapshot {
	now := rollouttest.Epoch.Add(time.Hour)
	return rollout.Snapshot{Rollouts: rollout.Build(rollouttest.Synthetic(200, 25), now), Synced: true, At: now,
		Conn: rollout.Connection{State: rollout.ConnLive}}
}

// DESIGN.md §9: View() with 200 rollouts / 5,000 pods in under 1 ms a frame.
func BenchmarkView200Rollouts5000Pods(b *testing.B) {
	m := New(Options{Styles: styles.New(styles.Options{Color: true}), Context: "bench", Namespace: "", Now: rollouttest.Epoch})
	m = send(m, tea.WindowSizeMsg{Width: 120, Height: 40}, SnapshotMsg(bigSnapshot()))
	b.ReportAllocs()
	for b.Loop() {
		if v := m.View(); v.Content == "" {
			b.Fatal("empty frame")
		}
	}
}

// Issue 15: the same with 200 Argo Rollouts (STEP column, analysis in the snapshot).
func BenchmarkView200ArgoRollouts5000Pods(b *testing.B) {
	snap := bigArgoSnapshot()
	m := New(Options{Styles: styles.New(styles.Options{Color: true}), Context: "bench", Now: rollouttest.Epoch})
	m = send(m, tea.WindowSizeMsg{Width: 120, Height: 40}, SnapshotMsg(snap))
	b.ReportAllocs()
	for b.Loop() {
		if v := m.View(); v.Content == "" {
			b.Fatal("empty frame")
		}
	}
}

// DESIGN.md §9: applying a snapshot (Update) of 200 rollouts / 5,000 pods.
func BenchmarkUpdateSnapshot200Rollouts5000Pods(b *testing.B) {
	m := New(Options{Styles: styles.New(styles.Options{Color: true}), Context: "bench", Now: rollouttest.Epoch})
	m = send(m, tea.WindowSizeMsg{Width: 120, Height: 40})
	snap := SnapshotMsg(bigSnapshot())
	b.ReportAllocs()
	for b.Loop() {
		m = send(m, snap)
	}
}

type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n.Add(int64(len(p))); return len(p), nil }

// DESIGN.md §9: bytes written to the terminal while nothing changes (target 0), and for one
// pod status change. Runs the real program and renderer against a counting terminal.
func BenchmarkTerminalBytes(b *testing.B) { terminalBytes(b, bigSnapshot) }

// Issue 15: the same with 200 Argo Rollouts (the STEP column shown).
func BenchmarkTerminalBytesArgo(b *testing.B) { terminalBytes(b, bigArgoSnapshot) }

func bigArgoSnapshot() rollout.Snapshot {
	now := rollouttest.Epoch.Add(time.Hour)
	return rollout.Snapshot{Rollouts: rollout.Build(rollouttest.SyntheticArgo(200, 25), now), Synced: true, At: now,
		Conn: rollout.Connection{State: rollout.ConnLive}}
}

func terminalBytes(b *testing.B, bigSnapshot func() rollout.Snapshot) {
	idle := 30 * time.Second
	if testing.Short() {
		idle = 3 * time.Second
	}
	snapshots := make(chan rollout.Snapshot, 1)
	out := &countingWriter{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snap := bigSnapshot()
	m := New(Options{Styles: styles.New(styles.Options{Color: true}), Context: "bench", Snapshots: snapshots, Now: snap.At})
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(strings.NewReader("")), tea.WithOutput(out),
		tea.WithWindowSize(80, 24), tea.WithColorProfile(colorprofile.ANSI256), tea.WithoutSignalHandler())
	done := make(chan struct{})
	go func() { _, _ = p.Run(); close(done) }()
	snapshots <- snap

	settle := func() int64 { // until a second passes with nothing more written
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		last := out.n.Load()
		for range tick.C {
			now := out.n.Load()
			if now == last {
				break
			}
			last = now
		}
		return last
	}
	start := settle()
	<-time.After(idle) // the window being measured, not a wait for something
	idleBytes := out.n.Load() - start

	changed := bigSnapshot()
	notReady := *changed.Rollouts[1].Revisions[0].Pods[0] // views are shared: a new one
	notReady.Ready, notReady.Reason = false, rollout.ReasonNotReady
	changed.Rollouts[1].Revisions[0].Pods[0] = &notReady
	before := out.n.Load()
	snapshots <- changed
	changeBytes := settle() - before

	cancel()
	<-done
	for b.Loop() {
	}
	b.ReportMetric(float64(start), "first-frame-bytes")
	b.ReportMetric(float64(idleBytes), "idle-bytes/"+idle.String())
	b.ReportMetric(float64(changeBytes), "bytes/pod-change")
}

// Under churn: each snapshot has one rollout changed (a new Version), the others as the
// last one drew them.
func BenchmarkUpdateSnapshotOneRolloutChanged200Rollouts5000Pods(b *testing.B) {
	m := New(Options{Styles: styles.New(styles.Options{Color: true}), Context: "bench", Now: rollouttest.Epoch})
	m = send(m, tea.WindowSizeMsg{Width: 120, Height: 40})
	base := bigSnapshot()
	m = send(m, SnapshotMsg(base))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		next := base
		next.Rollouts = slices.Clone(base.Rollouts)
		changed := &next.Rollouts[i%20]
		changed.Replicas.Ready--
		changed.Version += 1 << 40
		m = send(m, SnapshotMsg(next))
		i++
	}
}
