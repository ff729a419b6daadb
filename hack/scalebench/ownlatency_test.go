package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A run of five timed changes of pod p, each paired on both sides: by the pod's name and
// resourceVersion at the watcher, by order on the screen.
func TestPairChanges(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	changes := []timedChange{
		{podVersion{"p", "11"}, at(0), rowPending},
		{podVersion{"p", "12"}, at(1000), rowReady},
		{podVersion{"p", "13"}, at(2000), rowPending}, // on screen only after the next write, never at the watcher
		{podVersion{"p", "14"}, at(3000), rowReady},
		{podVersion{"p", "15"}, at(4000), rowPending}, // "arrived" before it was sent: not this write's
	}
	flips := []screenFlip{
		{at(-100), rowPending}, // before change 0 was sent: not its
		{at(40), rowPending},
		{at(1010), rowAbsent}, // a frame cut mid-row
		{at(1020), rowPending},
		{at(1050), rowReady},
		{at(3200), rowPending}, // change 2, after change 3 was sent: too late to be paired
		{at(3300), rowReady},
		{at(4050), rowPending},
		{at(4060), rowPending},
	}
	arrivals := map[podVersion]time.Time{
		{"p", "10"}:     at(-500), // an older version
		{"p", "11"}:     at(10),
		{"other", "12"}: at(1001), // another pod's change
		{"p", "12"}:     at(1030),
		{"p", "14"}:     at(3010),
		{"p", "15"}:     at(3999),
	}
	p := pairChanges(changes, flips, arrivals)
	msList := func(ms ...int) []time.Duration {
		var out []time.Duration
		for _, m := range ms {
			out = append(out, time.Duration(m)*time.Millisecond)
		}
		return out
	}
	if want := msList(20, 30, 290); !slices.Equal(p.own, want) {
		t.Errorf("own = %v, want %v", p.own, want)
	}
	if want := msList(40, 50, 50, 300); !slices.Equal(p.toScreen, want) {
		t.Errorf("toScreen = %v, want %v", p.toScreen, want)
	}
	if want := msList(10, 10, 30); !slices.Equal(p.delivered, want) {
		t.Errorf("delivered = %v, want %v", p.delivered, want)
	}
	if p.changes != 5 || p.notMeasured != 2 || p.notOnScreen != 1 || p.notDelivered != 2 {
		t.Errorf("changes %d, not measured %d (not on screen %d, not delivered %d), want 5, 2 (1, 2)", p.changes, p.notMeasured, p.notOnScreen, p.notDelivered)
	}
	fig := ownLatencyFigure(p, 10*time.Second)
	for _, want := range []string{"p50 30 ms", "p99 290 ms", "n=3 of 5 timed changes", "not measured (2: 1 not on screen within 10s, 2 not delivered to the watcher within 5 s)"} {
		if !strings.Contains(fig, want) {
			t.Errorf("figure %q lacks %q", fig, want)
		}
	}
	// 290 ms is over; and the two not measured count as over whatever was measured.
	if got := ownLatencyTarget(p, 100); got != "target p99 < 100 ms with 100 rollouts churning: MISSED, the 2 not measured counted as over" {
		t.Errorf("target = %q", got)
	}
}

func TestOwnP99Met(t *testing.T) {
	var fast []time.Duration
	for i := range 200 {
		fast = append(fast, time.Duration(i%90)*time.Millisecond)
	}
	slices.Sort(fast)
	if !ownP99Met(churnPairing{own: fast}, 100*time.Millisecond) {
		t.Error("200 samples under 90 ms: p99 should be met")
	}
	// Three not measured of 203: beyond the 1 % p99 leaves out, counted as over.
	if ownP99Met(churnPairing{own: fast, notMeasured: 3}, 100*time.Millisecond) {
		t.Error("3 of 203 not measured counted as over: p99 should be missed")
	}
	if !ownP99Met(churnPairing{own: fast, notMeasured: 1}, 100*time.Millisecond) {
		t.Error("1 of 201 not measured is within the 1 % p99 leaves out")
	}
	if ownP99Met(churnPairing{notMeasured: 0}, 100*time.Millisecond) {
		t.Error("no sample: not met")
	}
	// Negative samples (the console's watch served before the bench's) are measurements too.
	if got := ownLatencyFigure(churnPairing{changes: 1, own: []time.Duration{-3 * time.Millisecond}}, time.Second); !strings.Contains(got, "p99 -3 ms") || !strings.Contains(got, "not measured (0)") {
		t.Errorf("figure = %q", got)
	}
	if got := ownLatencyTarget(churnPairing{own: []time.Duration{time.Millisecond}}, 50); got != "target p99 < 100 ms with 100 rollouts churning; here 50 churning: met" {
		t.Errorf("target = %q", got)
	}
}

// The split reads the console's log by resourceVersion (the first read of each), and sets
// each timed change's read against the bare watcher and the screen; changes the log or the
// screen lacks are left out, and a console that wrote no log is said to be no pprof build.
func TestSplitFigure(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	changes := []timedChange{
		{podVersion{"p", "11"}, at(0), rowPending},
		{podVersion{"p", "12"}, at(1000), rowReady},
		{podVersion{"p", "13"}, at(2000), rowPending}, // not in the console's log
		{podVersion{"p", "14"}, at(3000), rowReady},   // never on screen
	}
	onScreen := []time.Time{at(70), at(1300), at(2100), {}}
	delivered := map[podVersion]time.Time{{"p", "11"}: at(10), {"p", "12"}: at(1010), {"p", "14"}: at(3010)}
	log := ""
	for _, l := range []struct {
		ms int
		rv string
	}{{20, "11"}, {25, "11"}, {1210, "12"}, {3020, "14"}, {500, "99"}} {
		log += fmt.Sprintf("%d shop/p %s\n", at(l.ms).UnixNano(), l.rv)
	}
	path := filepath.Join(t.TempDir(), "podlog.txt")
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	got := splitFigure(changes, onScreen, delivered, path)
	want := "read after the bare watcher had it p50 10 ms, p90 200 ms, p99 200 ms, max 200 ms (n=2); on screen after it was read p50 50 ms, p90 90 ms, p99 90 ms, max 90 ms (n=2)"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := splitFigure(changes, onScreen, delivered, filepath.Join(t.TempDir(), "none")); !strings.Contains(got, "not a -tags pprof build") {
		t.Errorf("without a log: %s", got)
	}
}
