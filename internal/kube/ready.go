package kube

import (
	"context"
	"errors"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
)

// readiness asks the API server every readyEvery whether it is ready (GET /readyz, one
// request, never in the audit of LISTs and WATCHes): an API server whose etcd is down keeps
// answering and holds its watches open, silent, as if nothing changed, and nothing else the
// watcher does would notice. While it is not ready the footer says reconnecting.
type readiness struct {
	ask   func(context.Context) error
	clock clock.Clock

	mu            sync.Mutex
	asking        bool
	lastAsked     time.Time
	notReadySince time.Time // zero while ready (or when it cannot tell)
	reason        string
}

const (
	readyEvery   = 5 * time.Second
	readyTimeout = 5 * time.Second
)

// poll asks, on its own goroutine, when the last answer is older than readyEvery and no
// question is pending.
func (r *readiness) poll(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.asking || (!r.lastAsked.IsZero() && r.clock.Since(r.lastAsked) < readyEvery) {
		return
	}
	r.asking, r.lastAsked = true, r.clock.Now()
	go func() {
		askCtx, cancel := context.WithTimeout(ctx, readyTimeout)
		err := r.ask(askCtx)
		timedOut := askCtx.Err() != nil && ctx.Err() == nil
		cancel()
		r.mu.Lock()
		defer r.mu.Unlock()
		r.asking = false
		reason := notReadyReason(err, timedOut)
		if reason == "" {
			r.notReadySince, r.reason = time.Time{}, ""
			return
		}
		if r.notReadySince.IsZero() {
			r.notReadySince = r.clock.Now()
		}
		r.reason = reason
	}()
}

// state returns since when the API server has not been ready and why; zero when it is.
func (r *readiness) state() (time.Time, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.notReadySince, r.reason
}

// notReadyReason reads /readyz's answer: "" when ready, or when the answer says nothing
// about readiness (no answer at all, which the connection's health reports; a 401 or 403
// from a cluster that hides /readyz).
func notReadyReason(err error, timedOut bool) string {
	var notReady *kubeapi.NotReady
	switch {
	case err == nil:
		return ""
	case timedOut:
		return "the API server does not say whether it is ready (no answer to /readyz in time)"
	case errors.As(err, &notReady):
		return notReady.Error() + ": changes may not show"
	default:
		return ""
	}
}
