package jumphost

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// Deadlines are a session's two limits: idle (measured from the last key press, not from
// the last byte sent: a live console draws without the user doing anything, and SSH's own
// idle timeout, reset by output, would never fire) and the maximum length of a session.
type Deadlines struct {
	clock   clock.Clock
	idle    time.Duration
	max     time.Duration
	started time.Time

	mu      sync.Mutex
	lastKey time.Time
}

// NewDeadlines starts the clocks now; a zero limit is no limit.
func NewDeadlines(c clock.Clock, idle, max time.Duration) *Deadlines {
	now := c.Now()
	return &Deadlines{clock: c, idle: idle, max: max, started: now, lastKey: now}
}

// KeyPressed restarts the idle clock.
func (d *Deadlines) KeyPressed() {
	now := d.clock.Now()
	d.mu.Lock()
	d.lastKey = now
	d.mu.Unlock()
}

// Expired says which limit has passed at the clock's now, as the line the session shows;
// "" while none has.
func (d *Deadlines) Expired() string {
	_, why := d.remaining()
	return why
}

// remaining is the time until the first limit passes, or why one has.
func (d *Deadlines) remaining() (time.Duration, string) {
	now := d.clock.Now()
	d.mu.Lock()
	lastKey := d.lastKey
	d.mu.Unlock()
	left := time.Duration(-1)
	if d.idle > 0 {
		idleLeft := d.idle - now.Sub(lastKey)
		if idleLeft <= 0 {
			return 0, fmt.Sprintf("closed after %s without a key press (--idle %s); reconnect to go on", ShortDuration(d.idle), ShortDuration(d.idle))
		}
		left = idleLeft
	}
	if d.max > 0 {
		maxLeft := d.max - now.Sub(d.started)
		if maxLeft <= 0 {
			return 0, fmt.Sprintf("closed: sessions last at most %s (--max-session); reconnect to go on", ShortDuration(d.max))
		}
		if left < 0 || maxLeft < left {
			left = maxLeft
		}
	}
	return left, ""
}

// Wait blocks until a limit passes (and returns why) or ctx ends (and returns "").
func (d *Deadlines) Wait(ctx context.Context) string {
	for {
		left, why := d.remaining()
		if why != "" {
			return why
		}
		if left < 0 {
			<-ctx.Done()
			return ""
		}
		t := d.clock.NewTimer(left)
		select {
		case <-ctx.Done():
			t.Stop()
			return ""
		case <-t.C():
		}
	}
}

// ShortDuration prints 15m0s as 15m and 12h0m0s as 12h.
func ShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
