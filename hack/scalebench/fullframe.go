package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// The first full frame (every pod read) is set against the API server's floor (a bare
// client streaming every pod) measured around it, run after run: on a busy 2-core machine
// the API server's own delivery of 50,000 pods varies by seconds from one minute to the
// next (seen here: 3.7 s, then 6.6 s and 8.0 s for the same bare read), so one console run
// set against the best of two floors read earlier says more about the minute than about
// the console. Here floor and console alternate (floor, console, floor, ..., floor) and the
// medians are compared.

// fullFrameRuns is how many console runs alternate with the floor's reads.
const fullFrameRuns = 3

// fullFrames is the interleaved measurement: each console run's time to the full frame and
// each floor read around them.
type fullFrames struct {
	console, floor []time.Duration
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func seconds(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%.2f", d.Seconds())
	}
	return strings.Join(parts, ", ")
}

// measureFullFrames alternates floor reads and console runs (in tmux, from start until the
// screen counts every rollout and no longer says "reading pods").
func measureFullFrames(ctx context.Context, cfg *rest.Config, wl scaleWorkload, pyroll, kubeconfig, pyrollConfig, prometheusURL, home string) (fullFrames, error) {
	var ff fullFrames
	pods, err := floorPods(cfg)
	if err != nil {
		return ff, err
	}
	floorOnce := func() error {
		start := time.Now()
		n, err := streamPods(ctx, pods)
		if err != nil {
			return fmt.Errorf("API floor: %w", err)
		}
		if n < wl.pods() {
			return fmt.Errorf("API floor: read %d pods, want at least %d", n, wl.pods())
		}
		ff.floor = append(ff.floor, time.Since(start))
		return nil
	}
	for i := range fullFrameRuns {
		if err := floorOnce(); err != nil {
			return ff, err
		}
		tm, err := startTerminal(ctx, fmt.Sprintf("pyroll-scalebench-frames-%d-%d", os.Getpid(), i), home)
		if err != nil {
			return ff, err
		}
		command := fmt.Sprintf("exec %s --kubeconfig %s -A --prometheus-url %s --config %s 2>/dev/null", pyroll, kubeconfig, prometheusURL, pyrollConfig)
		started, _, err := runUntilEveryRollout(ctx, tm, command, wl, 10*time.Millisecond, nil)
		if err == nil {
			var full time.Time
			if _, full, err = tm.WaitScreen(ctx, 5*time.Minute, 10*time.Millisecond, "every pod read", func(s string) bool {
				return headerRollouts(s) >= wl.deployments() && everyPodRead(s)
			}); err == nil {
				ff.console = append(ff.console, full.Sub(started))
			}
		}
		tm.Kill()
		if err != nil {
			return ff, fmt.Errorf("full frame, run %d: %w", i+1, err)
		}
	}
	return ff, floorOnce()
}

// figure is the measurement's result line.
func (ff fullFrames) figure(pods int) string {
	c, f := median(ff.console), median(ff.floor)
	over := c - f
	return fmt.Sprintf("console -A: first full frame, %d runs alternating with %d reads of the API server's floor (a bare client streaming all %d pods): console median %.2f s (%s), floor median %.2f s (%s): %+.2f s over it   (DESIGN.md §9's target, within 0.5 s of the floor: %s)",
		len(ff.console), len(ff.floor), pods, c.Seconds(), seconds(ff.console), f.Seconds(), seconds(ff.floor), over.Seconds(), verdict(over <= 500*time.Millisecond))
}
