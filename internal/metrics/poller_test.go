package metrics

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

type countingSource struct {
	mu    sync.Mutex
	calls []int // the number of rollouts each round was asked for
}

func (s *countingSource) Report(_ context.Context, _ string, rollouts []rollout.Rollout, now time.Time) Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, len(rollouts))
	return Report{At: now, Warnings: []safetext.Text{"partial answer"}}
}

func TestPollerReadsTheNewestRolloutsAndSaysWarningsOnce(t *testing.T) {
	src := &countingSource{}
	p := &Poller{Source: src, Interval: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rounds := p.Run(ctx)
	p.SetRollouts([]rollout.Rollout{{Name: "a"}})
	first := <-rounds
	if len(first.NewWarnings) != 1 || first.NewWarnings[0] != "partial answer" {
		t.Errorf("first round's new warnings %q", first.NewWarnings)
	}
	p.SetRollouts([]rollout.Rollout{{Name: "a"}, {Name: "b"}})
	for {
		polled := <-rounds
		if len(polled.NewWarnings) != 0 {
			t.Fatalf("a warning said again: %q", polled.NewWarnings)
		}
		src.mu.Lock()
		last := src.calls[len(src.calls)-1]
		src.mu.Unlock()
		if last == 2 {
			break // the newest rollouts were read
		}
	}
	cancel()
	for range rounds {
	}
}

func TestPollerRunsOnceSyncedEvenWithNothingInScope(t *testing.T) {
	src := &countingSource{}
	p := &Poller{Source: src, Interval: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	rounds := p.Run(ctx)
	p.SetRollouts(nil) // synced, nothing in scope: still a round (Prometheus' state matters)
	if r := <-rounds; r.Report.At.IsZero() {
		t.Errorf("round %+v", r)
	}
	cancel()
	for range rounds {
	}
}
