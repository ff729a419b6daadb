package main

import (
	"testing"
	"time"
)

func TestHeaderRollouts(t *testing.T) {
	screen := "kubectl pyroll · pyroll-sandbox, all namespaces  1 Progressing 199 Complete\nNAME  PHASE\nbench-0/api-0-00  Progressing"
	if n := headerRollouts(screen); n != 200 {
		t.Errorf("headerRollouts = %d, want 200", n)
	}
	if n := headerRollouts("Reading rollouts from the cluster…"); n != 0 {
		t.Errorf("headerRollouts before the header = %d", n)
	}
}

func TestRowOf(t *testing.T) {
	screen := "NAME  PHASE\nbench-1/api-1-07   ✓ Complete  1  50/50\nbench-1/api-1-70  ✓ Complete"
	if row := rowOf(screen, "api-1-07"); row != "bench-1/api-1-07   ✓ Complete  1  50/50" {
		t.Errorf("rowOf = %q", row)
	}
	if row := rowOf(screen, "api-1-0"); row != "" {
		t.Errorf("rowOf matched a prefix: %q", row)
	}
}

func TestOnlyAgesDiffer(t *testing.T) {
	a := "head\napi-0   ✓ Complete  50/50  7m\napi-1  ✓ Complete 50/50 1h2m"
	if !onlyAgesDiffer(a, "head\napi-0   ✓ Complete  50/50  8m\napi-1  ✓ Complete 50/50 1h3m") {
		t.Error("an age change alone should count as ages only")
	}
	if onlyAgesDiffer(a, "head\napi-0   ✓ Complete  49/50  8m\napi-1  ✓ Complete 50/50 1h2m") {
		t.Error("a ready count change is not an age")
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 40; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if p := percentile(d, 50); p != 20*time.Millisecond {
		t.Errorf("p50 = %s", p)
	}
	if p := percentile(d, 99); p != 40*time.Millisecond {
		t.Errorf("p99 = %s", p)
	}
}

func TestLiveHeap(t *testing.T) {
	trace := "gc 1 @0.017s 1%: 0.04+1.6+0.04 ms clock, 3->3->1 MB, 4 MB goal, 0 MB stacks\ngc 2 @1.2s 2%: x, 51->53->26 MB, 58 MB goal, 0 MB stacks\n"
	if got := liveHeap(trace); got != "live heap 26 MB after the last of 2 GCs, goal 58 MB" {
		t.Errorf("liveHeap = %q", got)
	}
}
