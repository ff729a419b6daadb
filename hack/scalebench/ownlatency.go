package main

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The console's own latency under churn: for each timed change, when it was on the console's
// screen minus when the API server delivered that same change to a bare watcher (the
// eventClock: a watch of the pod from a client of its own, which does nothing but note the
// arrival of each version). What is left is the console's share: its informer's decode, the
// rebuild, the coalescing window, the frame.

// podVersion names one change on the API side: the pod and the resourceVersion its write
// produced (unique per write).
type podVersion struct{ pod, rv string }

// timedChange is one timed write: the version it produced, when it was sent, and what the
// row on screen shows once the console has it.
type timedChange struct {
	podVersion
	sent time.Time
	want rowState
}

// screenFlip is a change of the followed row's state as the terminal received it.
type screenFlip struct {
	at    time.Time
	state rowState
}

// churnPairing is the timed changes paired on both sides.
type churnPairing struct {
	changes   int
	toScreen  []time.Duration // sent -> on screen, for each change seen on screen (sorted)
	delivered []time.Duration // sent -> delivered to the bare watcher, for each change it saw (sorted)
	own       []time.Duration // on screen minus delivered, for each change seen on both sides (sorted)
	onScreen  []time.Time     // when each change (in order) was on screen; zero if it was not
	// Changes not measured for the console's own latency, by the side that did not see them
	// (a change may be missing on both).
	notOnScreen, notDelivered, notMeasured int
}

// pairChanges pairs each timed change with its two sides. The watcher's side by the pod's
// name and the resourceVersion the write produced (an arrival of any other version is some
// other change). The screen's side by order: each timed write flips the followed row
// (pending pod <-> none: nothing else writes that rollout's pods), and the console cannot
// show a write before it was sent nor, the loop waiting for each change on screen before
// the next write, after the next one was sent; so change k is the first flip to its state
// at or after it was sent and before change k+1 was sent. A change with no such flip (the
// screen showed it too late, never, or only merged with the next) is not on screen; an
// arrival before the write was sent is not that write's, whatever its version says.
func pairChanges(changes []timedChange, flips []screenFlip, arrivals map[podVersion]time.Time) churnPairing {
	p := churnPairing{changes: len(changes)}
	for i, c := range changes {
		var next time.Time // zero: the last change, no upper bound
		if i+1 < len(changes) {
			next = changes[i+1].sent
		}
		var onScreen time.Time
		for _, f := range flips {
			if f.state == c.want && !f.at.Before(c.sent) && (next.IsZero() || f.at.Before(next)) {
				onScreen = f.at
				break
			}
		}
		delivered, ok := arrivals[c.podVersion]
		if ok && delivered.Before(c.sent) {
			ok = false
		}
		p.onScreen = append(p.onScreen, onScreen)
		if !onScreen.IsZero() {
			p.toScreen = append(p.toScreen, onScreen.Sub(c.sent))
		} else {
			p.notOnScreen++
		}
		if ok {
			p.delivered = append(p.delivered, delivered.Sub(c.sent))
		} else {
			p.notDelivered++
		}
		if !onScreen.IsZero() && ok {
			p.own = append(p.own, onScreen.Sub(delivered))
		} else {
			p.notMeasured++
		}
	}
	slices.Sort(p.toScreen)
	slices.Sort(p.delivered)
	slices.Sort(p.own)
	return p
}

// ownP99Met says whether the console's own p99 holds under limit, each change not measured
// counted as over it (a change the screen never showed is the slowest of all; one the
// watcher missed cannot be vouched for).
func ownP99Met(p churnPairing, limit time.Duration) bool {
	all := slices.Clone(p.own)
	for range p.notMeasured {
		all = append(all, time.Duration(math.MaxInt64))
	}
	return len(p.own) > 0 && percentile(all, 99) < limit
}

// notMeasuredSummary is "not measured (0)", or "not measured (3: 2 not on screen in time, 1
// not delivered to the watcher)".
func notMeasuredSummary(p churnPairing, screenTimeout time.Duration) string {
	if p.notMeasured == 0 {
		return "not measured (0)"
	}
	var why []string
	if p.notOnScreen > 0 {
		why = append(why, fmt.Sprintf("%d not on screen within %s", p.notOnScreen, screenTimeout))
	}
	if p.notDelivered > 0 {
		why = append(why, fmt.Sprintf("%d not delivered to the watcher within 5 s", p.notDelivered))
	}
	return fmt.Sprintf("not measured (%d: %s)", p.notMeasured, strings.Join(why, ", "))
}

// ownLatencyTarget is DESIGN.md §9's target for the console's own latency under churn, set
// with 100 rollouts churning, with its verdict (counting the changes not measured as over).
func ownLatencyTarget(p churnPairing, rolling int) string {
	v := verdict(ownP99Met(p, 100*time.Millisecond))
	if p.notMeasured > 0 {
		v += fmt.Sprintf(", the %d not measured counted as over", p.notMeasured)
	}
	if rolling != 100 {
		return fmt.Sprintf("target p99 < 100 ms with 100 rollouts churning; here %d churning: %s", rolling, v)
	}
	return "target p99 < 100 ms with 100 rollouts churning: " + v
}

// ownLatencyFigure is the figure line's measured part.
func ownLatencyFigure(p churnPairing, screenTimeout time.Duration) string {
	if len(p.own) == 0 {
		return fmt.Sprintf("no change seen on both sides (n=0 of %d timed changes; %s)", p.changes, notMeasuredSummary(p, screenTimeout))
	}
	return fmt.Sprintf("p50 %s, p99 %s, min %s, max %s (n=%d of %d timed changes; %s)",
		ms(percentile(p.own, 50)), ms(percentile(p.own, 99)), ms(p.own[0]), ms(p.own[len(p.own)-1]), len(p.own), p.changes, notMeasuredSummary(p, screenTimeout))
}

// streamLag is how much later the watch of every pod had each version than the watch of
// that one pod: the API server's delay of a busy stream, which the console's own latency
// does not count.
func streamLag(onePod, everyPod map[podVersion]time.Time) string {
	var lags []time.Duration
	for v, at := range onePod {
		if streamAt, ok := everyPod[v]; ok {
			lags = append(lags, streamAt.Sub(at))
		}
	}
	if len(lags) == 0 {
		return "no version seen by both"
	}
	slices.Sort(lags)
	return fmt.Sprintf("p50 %s, p99 %s (n=%d)", ms(percentile(lags, 50)), ms(percentile(lags, 99)), len(lags))
}

// streamEnded says why the watcher of every pod stopped early, if it did.
func streamEnded(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

// splitFigure splits the console's own latency of each timed change in two by the console's
// log of when it read each pod version (PYROLL_PODLOG lines "UNIX_NANOS NS/NAME RV"): read minus delivered to the bare watcher (the API server's stream to the console's
// connection, and the console's reader getting a core), and on screen minus read (the
// console's work: the coalescing window, the rebuild, the frame, and tmux).
func splitFigure(changes []timedChange, onScreen []time.Time, delivered map[podVersion]time.Time, podLog string) string {
	data, err := os.ReadFile(podLog)
	if err != nil || len(data) == 0 {
		return "no log (the console is not a -tags pprof build)"
	}
	read := map[string]time.Time{} // resourceVersion (unique in the cluster) -> first read
	for _, c := range changes {
		read[c.rv] = time.Time{}
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		if at, timed := read[f[2]]; timed && at.IsZero() {
			if nanos, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				read[f[2]] = time.Unix(0, nanos)
			}
		}
	}
	var toRead, toScreen []time.Duration
	for i, c := range changes {
		at := read[c.rv]
		if at.IsZero() || onScreen[i].IsZero() {
			continue
		}
		if d, ok := delivered[c.podVersion]; ok {
			toRead = append(toRead, at.Sub(d))
		}
		toScreen = append(toScreen, onScreen[i].Sub(at))
	}
	if len(toScreen) == 0 {
		return "no timed change in the console's log"
	}
	slices.Sort(toRead)
	slices.Sort(toScreen)
	spread := func(d []time.Duration) string {
		if len(d) == 0 {
			return "n=0"
		}
		return fmt.Sprintf("p50 %s, p90 %s, p99 %s, max %s (n=%d)", ms(percentile(d, 50)), ms(percentile(d, 90)), ms(percentile(d, 99)), ms(d[len(d)-1]), len(d))
	}
	return fmt.Sprintf("read after the bare watcher had it %s; on screen after it was read %s", spread(toRead), spread(toScreen))
}
