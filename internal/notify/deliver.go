package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Deliverer POSTs documents to webhooks in the background, retrying with backoff for a
// bounded time: a slow or broken webhook never delays the guard's next halt. Each
// attempt's failure and the final one are logged.
type Deliverer struct {
	URLs   []string
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
	for _, url := range d.URLs {
		d.wg.Go(func() { d.deliver(ctx, url, body) })
	}
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

func (d *Deliverer) deliver(ctx context.Context, url string, body []byte) {
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
		if last = d.post(ctx, url, body); last == nil {
			return
		}
		d.log("notify %s: attempt %d of %d failed: %v", url, attempt, attempts, last)
		if attempt == attempts {
			break
		}
		time.Sleep(delay) // the delivery's own goroutine: nothing else waits on it
		delay *= 2
	}
	d.log("notify %s: given up after %d attempts: %v", url, attempts, last)
}

func (d *Deliverer) post(ctx context.Context, url string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	client := d.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}

func (d *Deliverer) log(format string, args ...any) {
	if d.Log != nil {
		d.Log(format, args...)
	}
}
