package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
	"github.com/pyroll/kubectl-pyroll/ui/app"
)

// fleetConsole wires one console over several contexts: each context's parts start as
// soon as it answers (one that did not is tried again, its state on screen), its watcher's
// snapshots merged with the others'; actions, owners, diffs and logs go to the rollout's
// own context.
func (o *ConsoleOptions) fleetConsole(ctx context.Context, conns []fleetConnection, s consoleSession) (app.Options, error) {
	// A Prometheus flag that cannot work is the same mistake in every context: say it now.
	for _, c := range conns {
		if c.cluster != nil {
			if _, err := o.prometheus(c.cluster); err != nil {
				return app.Options{}, err
			}
			break
		}
	}
	router := &fleetRouter{parts: map[string]consoleParts{}, waiting: map[string]error{}, names: map[string]string{}}
	feed := newFleetMetrics(ctx)
	members := make([]kube.FleetMember, len(conns))
	scopes := make([]string, len(conns))
	for i, c := range conns {
		out := make(chan rollout.Snapshot, 1)
		members[i] = kube.FleetMember{Context: c.name, Snapshots: out}
		scopes[i] = c.name
		if c.cluster != nil {
			scopes[i] = contextScope(c.name, o.namespace(c.cluster))
		}
		router.wait(c.name, c.err)
		go func() {
			defer close(out)
			cluster := c.cluster
			if cluster == nil {
				if cluster = o.retryConnect(ctx, c, out); cluster == nil {
					return
				}
			}
			parts, err := o.contextParts(ctx, cluster, s)
			if err != nil {
				router.wait(c.name, err)
				return
			}
			router.ready(c.name, cluster, parts)
			if parts.poller != nil {
				feed.add(c.name, parts.poller)
			} else {
				feed.off(c.name)
			}
			for snap := range o.watch(ctx, cluster, o.NotReadyGrace, o.BakeTime) {
				select {
				case out <- snap:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	opts := o.appOptions(s)
	opts.Context = strings.Join(scopes, ", ")
	opts.Namespace = "-" // the scopes name each context's
	if o.AllNamespaces {
		opts.Namespace = ""
	}
	opts.Contexts, opts.Scopes = len(conns), scopes
	if s.showUser {
		opts.User = s.user
	}
	opts.Snapshots = kube.MergeSnapshots(ctx, members)
	opts.Actor = s.wrapped(router)
	opts.Inspector, opts.Owners = router, router
	if o.hasPrometheus() { // else "metrics off" for all, as with one context
		opts.Metrics = feed
	}
	return opts, nil
}

// contextScope is "prod-eu/shop" for the header.
func contextScope(name, namespace string) string {
	if namespace == "" {
		return name
	}
	return name + "/" + namespace
}

// fleetRouter sends each call to its rollout's context (ref.Rollout.Cluster), as that
// cluster names the rollout (no context).
type fleetRouter struct {
	mu      sync.Mutex
	parts   map[string]consoleParts
	waiting map[string]error  // contexts not answering yet, and why
	names   map[string]string // context -> "prod-eu (cluster eu-west-1)"
}

// where names a context in a question or an answer: "prod-eu (cluster eu-west-1)", or the
// context alone when its cluster has the same name.
func where(cluster *kube.Cluster) string {
	if cluster.ClusterName == "" || cluster.ClusterName == cluster.Context {
		return "context " + cluster.Context
	}
	return "context " + cluster.Context + " (cluster " + cluster.ClusterName + ")"
}

// said prefixes a plan's or a result's line with its context: every confirmation names
// the cluster it acts on.
func (f *fleetRouter) said(context string, line safetext.Text) safetext.Text {
	if line == "" {
		return line
	}
	f.mu.Lock()
	name := f.names[context]
	f.mu.Unlock()
	if name == "" {
		name = "context " + context
	}
	return safetext.Sprintf("%s: ", name) + line
}

func (f *fleetRouter) wait(name string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		err = fmt.Errorf("context %s: connecting", name)
	}
	f.waiting[name] = err
}

func (f *fleetRouter) ready(name string, cluster *kube.Cluster, parts consoleParts) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.parts[name] = parts
	f.names[name] = where(cluster)
	delete(f.waiting, name)
}

// of is the context's parts, or why there are none yet.
func (f *fleetRouter) of(name string) (consoleParts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.parts[name]; ok {
		return p, nil
	}
	if err, ok := f.waiting[name]; ok {
		return consoleParts{}, fmt.Errorf("not connected to context %s yet: %w", name, err)
	}
	return consoleParts{}, fmt.Errorf("context %q is not in view", name)
}

// Permissions are the user's in the scope's context.
func (f *fleetRouter) Permissions(ctx context.Context, scope intent.Scope) intent.Permissions {
	p, err := f.of(scope.Cluster)
	if err != nil {
		denied := map[intent.Action]string{}
		for _, a := range intent.Actions {
			denied[a] = err.Error()
		}
		return intent.Permissions{Denied: denied}
	}
	scope.Cluster = ""
	return p.actor.Permissions(ctx, scope)
}

// Plan plans in the target's context; the plan names the context again.
func (f *fleetRouter) Plan(ctx context.Context, req intent.Request) (intent.Plan, error) {
	name := req.Target.Cluster
	p, err := f.of(name)
	if err != nil {
		return intent.Plan{}, err
	}
	req.Target = req.Target.Local()
	plan, err := p.actor.Plan(ctx, req)
	plan.Target.Cluster = name
	plan.Message = f.said(name, plan.Message)
	return plan, err
}

// Apply carries the plan out in its context.
func (f *fleetRouter) Apply(ctx context.Context, plan intent.Plan) (intent.Result, error) {
	name := plan.Target.Cluster
	p, err := f.of(name)
	if err != nil {
		return intent.Result{Plan: plan}, err
	}
	plan.Target = plan.Target.Local()
	result, err := p.actor.Apply(ctx, plan)
	result.Plan.Target.Cluster = name
	result.Message = f.said(name, result.Message)
	var changed *intent.ChangedError
	if errors.As(err, &changed) {
		// Asked again as it would be decided now: in the same context.
		changed.Now.Target.Cluster = name
		changed.Now.Message = f.said(name, changed.Now.Message)
		changed.Was.Target.Cluster = name
	}
	if err != nil {
		err = fmt.Errorf("context %s: %w", name, err)
	}
	return result, err
}

// ReleaseHold gives the owner back in the target's context.
func (f *fleetRouter) ReleaseHold(ctx context.Context, target ref.Rollout, reason string) (safetext.Text, error) {
	p, err := f.of(target.Cluster)
	if err != nil {
		return "", err
	}
	releaser, ok := p.actor.(app.HoldReleaser)
	if !ok {
		return "", fmt.Errorf("release-hold is not available in context %s", target.Cluster)
	}
	return releaser.ReleaseHold(ctx, target.Local(), reason)
}

// Refused records a refusal where the context's actor records them.
func (f *fleetRouter) Refused(ctx context.Context, req intent.Request, reason string) {
	p, err := f.of(req.Target.Cluster)
	if err != nil {
		return
	}
	if recorder, ok := p.actor.(app.RefusalRecorder); ok {
		req.Target = req.Target.Local()
		recorder.Refused(ctx, req, reason)
	}
}

// ReadFor reads the owner in the target's context.
func (f *fleetRouter) ReadFor(ctx context.Context, target ref.Rollout, d owner.Detection) owner.View {
	p, err := f.of(target.Cluster)
	if err != nil || d.Owner == nil {
		// Unread: its context has not answered yet.
		v := owner.View{ReconcileDisabled: d.ReconcileDisabled}
		if d.Owner != nil {
			v.Ref = *d.Owner
		}
		return v
	}
	return p.owners.ReadFor(ctx, target.Local(), d)
}

// Diff reads the history in the target's context.
func (f *fleetRouter) Diff(ctx context.Context, target ref.Rollout) (app.DiffView, error) {
	p, err := f.of(target.Cluster)
	if err != nil {
		return app.DiffView{}, err
	}
	return p.inspector.Diff(ctx, target)
}

// Logs reads the pod's log in the target's context.
func (f *fleetRouter) Logs(ctx context.Context, target ref.Rollout, pod rollout.Pod) (app.LogView, error) {
	p, err := f.of(target.Cluster)
	if err != nil {
		return app.LogView{}, err
	}
	return p.inspector.Logs(ctx, target, pod)
}

// Snapshot writes the incident snapshot read in the rollout's context.
func (f *fleetRouter) Snapshot(ctx context.Context, r rollout.Rollout, report metrics.Report) (string, string, error) {
	p, err := f.of(r.Cluster)
	if err != nil {
		return "", "", err
	}
	return p.inspector.Snapshot(ctx, r, report)
}

// fleetMetrics is the console's metrics feed over several contexts: each context's poller
// (added as the context answers) reads its own rollouts; each round is merged with the
// others' latest.
type fleetMetrics struct {
	ctx      context.Context
	rounds   chan metrics.Polled
	mu       sync.Mutex
	pollers  map[string]*metrics.Poller
	rollouts map[string][]rollout.Rollout // the last rollouts handed over, by context
	set      bool
	latest   map[string]metrics.Report
	order    []string
	offs     []string // contexts without Prometheus
}

func newFleetMetrics(ctx context.Context) *fleetMetrics {
	return &fleetMetrics{ctx: ctx, rounds: make(chan metrics.Polled, 1), pollers: map[string]*metrics.Poller{}, rollouts: map[string][]rollout.Rollout{}, latest: map[string]metrics.Report{}}
}

// SetRollouts hands each context's poller its own rollouts.
func (m *fleetMetrics) SetRollouts(rs []rollout.Rollout) {
	byContext := map[string][]rollout.Rollout{}
	for _, r := range rs {
		byContext[r.Cluster] = append(byContext[r.Cluster], r)
	}
	m.mu.Lock()
	m.rollouts, m.set = byContext, true
	pollers := make(map[string]*metrics.Poller, len(m.pollers))
	for name, p := range m.pollers {
		pollers[name] = p
	}
	m.mu.Unlock()
	for name, p := range pollers {
		p.SetRollouts(byContext[name])
	}
}

// Rounds are the merged rounds.
func (m *fleetMetrics) Rounds() <-chan metrics.Polled { return m.rounds }

// off notes a context without Prometheus: its rows say so.
func (m *fleetMetrics) off(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.offs = append(m.offs, name)
}

// reportsLocked is each context's latest report, and the contexts without one.
func (m *fleetMetrics) reportsLocked() []metrics.ContextReport {
	reports := make([]metrics.ContextReport, 0, len(m.order)+len(m.offs))
	for _, n := range m.order {
		if r, ok := m.latest[n]; ok {
			reports = append(reports, metrics.ContextReport{Context: n, Report: r})
		}
	}
	for _, n := range m.offs {
		reports = append(reports, metrics.ContextReport{Context: n, Off: true})
	}
	return reports
}

// add starts following a context's running poller.
func (m *fleetMetrics) add(name string, p *metrics.Poller) {
	m.mu.Lock()
	m.pollers[name] = p
	m.order = append(m.order, name)
	rs, set := m.rollouts[name], m.set
	m.mu.Unlock()
	if set {
		p.SetRollouts(rs)
	}
	go func() {
		for polled := range p.Rounds() {
			m.mu.Lock()
			m.latest[name] = polled.Report
			reports := m.reportsLocked()
			m.mu.Unlock()
			merged := metrics.Polled{Report: metrics.MergeReports(reports)}
			for _, w := range polled.NewWarnings {
				merged.NewWarnings = append(merged.NewWarnings, safetext.Sprintf("context %s: ", name)+w)
			}
			select {
			case m.rounds <- merged:
			case <-m.ctx.Done():
				return
			}
		}
	}()
}
