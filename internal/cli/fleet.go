package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Several clusters in view (--contexts, --all-contexts): one connection per kubeconfig
// context, each with its own watcher, actions, owner reader, inspector and Prometheus,
// routed by ref.Rollout.Cluster (the context's name). One context failing never holds
// back the others.

// selectedContexts resolves --contexts and --all-contexts over the kubeconfig: nil when
// the command works on one context (none given, or they select exactly one, which then
// becomes --context).
func (o *Options) selectedContexts(s *ScopeOptions) ([]string, error) {
	if !s.severalContexts() {
		return nil, nil
	}
	if o.KubeFlags.Overrides.CurrentContext != "" {
		return nil, usageError("--context names one context, --contexts and --all-contexts several: give one of them")
	}
	available, err := o.KubeFlags.ContextNames()
	if err != nil {
		return nil, err
	}
	names, err := kube.SelectContexts(available, s.Contexts, s.AllContexts)
	if err != nil {
		return nil, usageError("%v", err)
	}
	if len(names) == 1 {
		o.KubeFlags.Overrides.CurrentContext = names[0]
		return nil, nil
	}
	return names, nil
}

// connectContext connects to one context (kubectl's other flags as given) and checks it
// answers within timeout.
func (o *Options) connectContext(ctx context.Context, name string, timeout time.Duration) (*kube.Cluster, error) {
	cluster, err := kube.Connect(o.KubeFlags.ForContext(name))
	if err != nil {
		return nil, inContext(name, err)
	}
	if err := cluster.Preflight(ctx, timeout); err != nil {
		return nil, inContext(name, err)
	}
	return cluster, nil
}

// inContext names the context in err, unless err already does (the connection's errors
// say `(context "prod-eu")`).
func inContext(name string, err error) error {
	if strings.Contains(err.Error(), `context "`+name+`"`) {
		return err
	}
	return fmt.Errorf("context %s: %w", name, err)
}

// fleetConnection is one context's first connection attempt.
type fleetConnection struct {
	name    string
	cluster *kube.Cluster // nil when err
	err     error
}

// connectFleet connects to every context at once, each within timeout; it fails only when
// none answers (then with every context's reason).
func (o *Options) connectFleet(ctx context.Context, names []string, timeout time.Duration) ([]fleetConnection, error) {
	conns := make([]fleetConnection, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			cluster, err := o.connectContext(ctx, name, timeout)
			conns[i] = fleetConnection{name: name, cluster: cluster, err: err}
		})
	}
	wg.Wait()
	var errs []string
	for _, c := range conns {
		if c.err != nil {
			errs = append(errs, c.err.Error())
		}
	}
	if len(errs) == len(conns) {
		return nil, errors.New("no context answered: " + strings.Join(errs, "; "))
	}
	return conns, nil
}

// fleetRetry is how long a context that did not answer waits before it is tried again.
const fleetRetry = 10 * time.Second

// reconnectingSnapshot is what a context that does not answer shows: its reason, since when.
func reconnectingSnapshot(since time.Time, err error) rollout.Snapshot {
	return rollout.Snapshot{At: time.Now(), Conn: rollout.Connection{State: rollout.ConnReconnecting, Since: since, Message: safetext.Line(err.Error())}}
}

// retryConnect tries the context again every fleetRetry until it answers or ctx ends,
// telling each failure on out; nil when ctx ended.
func (o *Options) retryConnect(ctx context.Context, first fleetConnection, out chan<- rollout.Snapshot) *kube.Cluster {
	since, err := time.Now(), first.err
	for {
		select {
		case out <- reconnectingSnapshot(since, err):
		case <-ctx.Done():
			return nil
		}
		select {
		case <-time.After(fleetRetry):
		case <-ctx.Done():
			return nil
		}
		cluster, cerr := o.connectContext(ctx, first.name, connectTimeout)
		if cerr == nil {
			return cluster
		}
		err = cerr
	}
}
