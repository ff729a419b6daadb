package kube

import (
	"net/http"
	"sync"
	"time"
)

// Health follows whether requests to the API server get answers: a transport wrapper sees
// every request, so "reconnecting" shows within one failed request rather than after the
// informers' back-off, and clears on the first answer.
type Health struct {
	mu          sync.Mutex
	failingFrom time.Time
	lastErr     error
}

// Failing returns since when requests have failed and the last error; zero when healthy.
func (h *Health) Failing() (time.Time, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failingFrom, h.lastErr
}

func (h *Health) record(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		h.failingFrom, h.lastErr = time.Time{}, nil
		return
	}
	if h.failingFrom.IsZero() {
		h.failingFrom = time.Now()
	}
	h.lastErr = err
}

func (h *Health) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		switch {
		case err != nil && req.Context().Err() == nil:
			h.record(err)
		case err == nil && resp.StatusCode < 500:
			h.record(nil)
		}
		return resp, err
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
