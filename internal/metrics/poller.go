package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Source reads one round of numbers for the rollouts of a namespace ("" for all): the
// Prometheus client.
type Source interface {
	Report(ctx context.Context, namespace string, rollouts []rollout.Rollout, now time.Time) Report
}

// Poller reads a round of metrics every Interval, for the rollouts most recently handed
// to it, under a deadline, one round at a time (a slow Prometheus skips ticks rather than
// piling up rounds). `status --watch` and `guard` use it; each report goes out with the
// warnings not seen before, so that they are said once, not every interval.
type Poller struct {
	Source    Source
	Namespace string
	// Interval between rounds (default 10s); Timeout bounds one round (default 10s).
	Interval, Timeout time.Duration
	Now               func() time.Time

	mu       sync.Mutex
	rollouts []rollout.Rollout
	kick     chan struct{}
	rounds   <-chan Polled
}

// Polled is one round's report and the warnings it says for the first time.
type Polled struct {
	Report      Report
	NewWarnings []safetext.Text
}

// SetRollouts hands the poller the rollouts to read next round; the first call starts
// the first round at once.
func (p *Poller) SetRollouts(rollouts []rollout.Rollout) {
	p.mu.Lock()
	first := p.rollouts == nil
	p.rollouts = rollouts
	if p.rollouts == nil {
		p.rollouts = []rollout.Rollout{}
	}
	kick := p.kick
	p.mu.Unlock()
	if first && kick != nil {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
}

// Rounds is the channel Run returned (nil before Run).
func (p *Poller) Rounds() <-chan Polled {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rounds
}

// Run polls until ctx ends; the channel closes then.
func (p *Poller) Run(ctx context.Context) <-chan Polled {
	out := make(chan Polled, 1)
	interval, timeout := p.Interval, p.Timeout
	if interval <= 0 {
		interval = 10 * time.Second
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	now := p.Now
	if now == nil {
		now = time.Now
	}
	p.mu.Lock()
	p.rounds = out
	p.kick = make(chan struct{}, 1)
	if p.rollouts != nil {
		p.kick <- struct{}{}
	}
	kick := p.kick
	p.mu.Unlock()
	go func() {
		defer close(out)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		said := map[safetext.Text]bool{}
		started := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-kick:
				if started {
					continue
				}
			case <-ticker.C:
			}
			p.mu.Lock()
			rollouts := p.rollouts
			p.mu.Unlock()
			if rollouts == nil {
				continue // nothing handed yet: the watch has not synced
			}
			started = true
			roundCtx, cancel := context.WithTimeout(ctx, timeout)
			report := p.Source.Report(roundCtx, p.Namespace, rollouts, now())
			cancel()
			polled := Polled{Report: report}
			for _, w := range report.Warnings {
				if !said[w] {
					said[w] = true
					polled.NewWarnings = append(polled.NewWarnings, w)
				}
			}
			select {
			case out <- polled:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
