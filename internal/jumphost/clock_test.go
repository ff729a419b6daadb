package jumphost

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	clocktesting "k8s.io/utils/clock/testing"
)

// waitFor waits (polling, at most 10 s) until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("%s: not true after 10s", what)
	}
}

func TestIdleIsMeasuredFromTheLastKeyPress(t *testing.T) {
	clock := clocktesting.NewFakeClock(time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC))
	d := NewDeadlines(clock, 15*time.Minute, 12*time.Hour)
	ended := make(chan string, 1)
	go func() { ended <- d.Wait(context.Background()) }()
	waitFor(t, "Wait's timer set", clock.HasWaiters)

	clock.Step(10 * time.Minute)
	d.KeyPressed() // at 9:10: idle now ends at 9:25
	clock.Step(5 * time.Minute)
	// 9:15: the first timer fired; Wait sees the key press and waits again.
	waitFor(t, "Wait's second timer set", clock.HasWaiters)
	select {
	case why := <-ended:
		t.Fatalf("ended at 9:15, 5 minutes after a key press: %q", why)
	default:
	}
	if why := d.Expired(); why != "" {
		t.Fatalf("Expired at 9:15: %q", why)
	}
	clock.Step(10 * time.Minute) // 9:25
	select {
	case why := <-ended:
		if !strings.Contains(why, "15m without a key press (--idle 15m)") {
			t.Errorf("reason: %q", why)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not end 15 minutes after the last key press")
	}
}

func TestMaxSessionEndsAnActiveSession(t *testing.T) {
	clock := clocktesting.NewFakeClock(time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC))
	d := NewDeadlines(clock, time.Hour, 2*time.Hour)
	for i := 0; i < 4; i++ {
		clock.Step(30 * time.Minute)
		d.KeyPressed()
	}
	if why := d.Expired(); !strings.Contains(why, "at most 2h (--max-session)") {
		t.Errorf("after 2h of typing: %q", why)
	}
}

func TestNoLimitsWaitsForTheContext(t *testing.T) {
	clock := clocktesting.NewFakeClock(time.Now())
	d := NewDeadlines(clock, 0, 0)
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan string, 1)
	go func() { ended <- d.Wait(ctx) }()
	clock.Step(1000 * time.Hour)
	cancel()
	if why := <-ended; why != "" {
		t.Errorf("no limits, cancelled: %q", why)
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{15 * time.Minute: "15m", 12 * time.Hour: "12h", 2 * time.Second: "2s", 90 * time.Minute: "1h30m"} {
		if got := ShortDuration(d); got != want {
			t.Errorf("ShortDuration(%s) = %q; want %q", d, got, want)
		}
	}
}
