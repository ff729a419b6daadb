package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/redact"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Deliverer POSTs documents to webhooks in the background, retrying with backoff for a
// bounded time: a slow or broken webhook never delays the guard's next halt. Each
// attempt's failure and the final one are logged, the webhook named by Name: an incoming
// webhook's URL is its credential, and never appears in a log line. A redirect is not
// followed: it is a failed attempt (a webhook that moved must be configured anew, and a
// POST must not turn into a GET that "delivers" nothing).
type Deliverer struct {
	URLs []string
	// Client sends the requests (nil: http.DefaultClient); its redirect policy is not used.
	Client *http.Client
	// Log receives one line per failed attempt and per delivery given up.
	Log func(format string, args ...any)
	// Attempts (default 5) and FirstDelay (default 1s, doubling) bound the retries.
	Attempts   int
	FirstDelay time.Duration

	wg sync.WaitGroup
}

// Send starts delivering doc to every URL and returns at once. A delivery outlives ctx
// (the guard stopping right after a halt must still tell on-call): its own attempts bound
// it, and Wait lets the caller give it a last moment.
func (d *Deliverer) Send(ctx context.Context, doc Document) {
	body, err := json.Marshal(doc)
	if err != nil {
		d.log("notify: %v", err)
		return
	}
	ctx = context.WithoutCancel(ctx)
	for i, url := range d.URLs {
		d.wg.Go(func() { d.deliver(ctx, url, webhookID(i), body) })
	}
}

// webhookID is the short id of the i-th webhook (from 0) of the list in log lines, where a
// webhook is named by its scheme, its host and its position in the list from 1, e.g.
// https://hooks.slack.com/…#1 (see Names). A position rather than a hash of the URL: a
// hash, however short, is computed from the secret and lets anyone who reads the log test
// guesses of a weak one, while a position says nothing about it and reads straight
// against the --notify flags (the guard logs every name at start).
func webhookID(i int) string { return strconv.Itoa(i + 1) }

// Names are the log names of the webhooks, in order.
func (d *Deliverer) Names() []string {
	names := make([]string, len(d.URLs))
	for i, url := range d.URLs {
		names[i] = redact.URL(url, webhookID(i))
	}
	return names
}

// Wait blocks until every delivery in flight ended (delivered or given up) or ctx ends.
func (d *Deliverer) Wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func (d *Deliverer) deliver(ctx context.Context, url, id string, body []byte) {
	target := redact.NewTarget(url, id)
	attempts := d.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	delay := d.FirstDelay
	if delay <= 0 {
		delay = time.Second
	}
	var last error
	for attempt := 1; attempt <= attempts; attempt++ {
		if last = target.Error(d.post(ctx, url, body)); last == nil {
			return
		}
		d.log("notify %s: attempt %d of %d failed: %v", target.Name, attempt, attempts, last)
		if attempt == attempts {
			break
		}
		time.Sleep(delay) // the delivery's own goroutine: nothing else waits on it
		delay *= 2
	}
	d.log("notify %s: given up after %d attempts: %v", target.Name, attempts, last)
}

func (d *Deliverer) post(ctx context.Context, url string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	client := http.DefaultClient
	if d.Client != nil {
		client = d.Client
	}
	noRedirect := *client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 3:
		// Its body (Go's, for one) quotes where it points, often this very URL: not read.
		where := "nowhere"
		if location, err := resp.Location(); err == nil {
			where = redact.URL(location.String(), "")
		}
		return fmt.Errorf("HTTP %d: a redirect to %s, not followed", resp.StatusCode, where)
	case resp.StatusCode/100 != 2:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, safetext.Line(string(bytes.TrimSpace(msg))))
	}
	return nil
}

func (d *Deliverer) log(format string, args ...any) {
	if d.Log != nil {
		d.Log(format, args...)
	}
}
