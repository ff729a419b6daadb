// Package kube connects to the cluster (kubectl's flags, via client-go's clientcmd) and watches
// rollouts through informers, turning bursts of events into immutable snapshots.
package kube

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/version"
)

// Cluster is a connection to one cluster, as kubectl's flags select it.
type Cluster struct {
	Config    *rest.Config
	Client    kubeapi.API
	Namespace string // from -n, else the kubeconfig context's, else "default"
	Context   string
	// ClusterName is the kubeconfig's name of the context's cluster (e.g. eu-west-1).
	ClusterName string
	// User is the kubeconfig's user name for the context (the API server may know better).
	User   string
	Health *Health
}

// Connect builds a client from kubectl's flags. It does not talk to the server yet.
func Connect(flags *Flags) (*Cluster, error) {
	silenceClientLogs()
	loader := flags.ClientConfig()
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, explainConfigError(err)
	}
	ns, _, err := loader.Namespace()
	if err != nil {
		return nil, explainConfigError(err)
	}
	raw, _ := loader.RawConfig()
	if len(raw.Clusters) == 0 && flags.Overrides.ClusterInfo.Server == "" {
		return nil, errors.New("no kubeconfig found (looked at --kubeconfig, $KUBECONFIG and ~/.kube/config): point one of them at your cluster's kubeconfig")
	}
	ctxName := raw.CurrentContext
	if flags.Overrides.CurrentContext != "" {
		ctxName = flags.Overrides.CurrentContext
	}
	cfg = rest.CopyConfig(cfg)
	// Interactive use: a burst of reads on start, then watches; kubectl's 5 QPS would
	// make the first screen wait.
	cfg.QPS, cfg.Burst = 50, 100
	cfg.UserAgent = "kubectl-pyroll/" + version.Version
	health := &Health{}
	cfg.Wrap(health.wrap)
	client, err := kubeapi.New(cfg)
	if err != nil {
		return nil, err
	}
	user, clusterName := "", ""
	if c, ok := raw.Contexts[ctxName]; ok {
		user, clusterName = c.AuthInfo, c.Cluster
	}
	return &Cluster{Config: cfg, Client: client, Namespace: ns, Context: ctxName, ClusterName: clusterName, User: user, Health: health}, nil
}

// Preflight authenticates (running any exec credential plugin now, before a full-screen
// UI could start) and checks the API server answers, within timeout. client-go runs an exec
// credential plugin without the request's context: a plugin that hangs would hold the
// request past any deadline, so the request runs on its own goroutine and Preflight gives
// up on it (the process ends the plugin when it exits).
func (c *Cluster) Preflight(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	answer := make(chan error, 1)
	go func() {
		_, err := c.Client.ServerVersion(ctx)
		answer <- err
	}()
	select {
	case err := <-answer:
		return c.ExplainError(err)
	case <-ctx.Done():
	}
	// A request that heeds its context ends at once now.
	select {
	case err := <-answer:
		return c.ExplainError(err)
	case <-time.After(preflightGrace):
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err() // the caller gave up (a signal), not the timeout
	}
	if exec := c.Config.ExecProvider; exec != nil {
		return fmt.Errorf("the kubeconfig's exec credential plugin (user %q: %s) did not answer within %s: run it by hand to see what it waits for (a login?), or check --kubeconfig/--context", c.User, strings.Join(append([]string{exec.Command}, exec.Args...), " "), timeout)
	}
	return fmt.Errorf("no answer from the API server at %s (context %q) within %s", c.Config.Host, c.Context, timeout)
}

// preflightGrace is how long Preflight waits, after its deadline, for a request that heeds
// it to end.
const preflightGrace = time.Second

// ExplainError turns a client error into one line that says what to do.
func (c *Cluster) ExplainError(err error) error {
	switch {
	case err == nil:
		return nil
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the API server at %s did not accept your credentials (context %q): log in again or check --kubeconfig/--context", c.Config.Host, c.Context)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("forbidden: %s", kubeapi.Message(err))
	case isUnreachable(err):
		return fmt.Errorf("cannot reach the Kubernetes API server at %s (context %q): %s; check the cluster is up and --context/--kubeconfig", c.Config.Host, c.Context, rootCause(err))
	default:
		return err
	}
}

func isUnreachable(err error) bool {
	var netErr net.Error
	var urlErr *url.Error
	return errors.As(err, &netErr) || errors.As(err, &urlErr) || errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "connection refused")
}

func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

func explainConfigError(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "unable to read") {
		return fmt.Errorf("a file the connection needs cannot be read: %s; check the paths in the kubeconfig or given to --client-certificate, --client-key, --certificate-authority", msg)
	}
	if strings.Contains(msg, "invalid configuration") || strings.Contains(msg, "no configuration") {
		return fmt.Errorf("no usable kubeconfig: %s; point --kubeconfig or KUBECONFIG at one, or pick a context with --context", msg)
	}
	return fmt.Errorf("kubeconfig: %w", err)
}

// silenceClientLogs stops client-go from writing to stderr: its retry warnings would
// scroll over a full-screen console. Errors reach the user through the watcher's state.
func silenceClientLogs() {
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)
}
