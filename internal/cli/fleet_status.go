package cli

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/metrics/promclient"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// fleet is the source of a status over several contexts: each context's watcher merged,
// each one's owners and Prometheus read in it. A context that does not answer in time is
// left out and told at the end (exit 1), the others printed.
func (o *StatusOptions) fleet(ctx context.Context, names []string, within time.Duration) (statusSource, error) {
	conns, err := o.connectFleet(ctx, names, within)
	if err != nil {
		return statusSource{}, err
	}
	src := statusSource{named: o.target}
	var members []kube.FleetMember
	readers := map[string]*kube.OwnerReader{}
	type promOf struct {
		client    *promclient.Client
		namespace string
	}
	proms := map[string]promOf{}
	feed := newFleetMetrics(ctx)
	namespaces := map[string]bool{}
	for _, c := range conns {
		if c.cluster == nil {
			src.failed = append(src.failed, c.err)
			continue
		}
		prom, err := o.prometheus(c.cluster)
		if err != nil {
			return statusSource{}, err
		}
		ns := o.namespace(c.cluster)
		namespaces[ns] = true
		src.contexts = append(src.contexts, c.name)
		members = append(members, kube.FleetMember{Context: c.name, Snapshots: o.watch(ctx, c.cluster, o.NotReadyGrace, o.BakeTime)})
		readers[c.name] = kube.NewOwnerReader(c.cluster.Client, kube.OwnerReaderOptions{})
		if prom != nil {
			proms[c.name] = promOf{client: prom, namespace: ns}
			if o.Watch {
				poller := &metrics.Poller{Source: prom, Namespace: ns, Interval: o.MetricsInterval}
				poller.Run(ctx)
				feed.add(c.name, poller)
			}
		}
	}
	if len(namespaces) == 1 {
		for ns := range namespaces {
			src.namespace = ns
		}
	}
	src.server = "contexts " + strings.Join(src.contexts, ", ")
	src.snapshots = kube.MergeSnapshots(ctx, members)
	src.owners = func(r rollout.Rollout) *owner.Report {
		reader := readers[r.Cluster]
		if reader == nil {
			return nil
		}
		return reader.ReadFor(ctx, r.Ref().Local(), *r.Owner).Report(r.Kind)
	}
	if len(proms) > 0 {
		src.report = func(ctx context.Context, rollouts []rollout.Rollout) metrics.Report {
			byContext := map[string][]rollout.Rollout{}
			for _, r := range rollouts {
				byContext[r.Cluster] = append(byContext[r.Cluster], r)
			}
			reports := make([]metrics.ContextReport, len(src.contexts))
			var wg sync.WaitGroup
			for i, name := range src.contexts {
				p, ok := proms[name]
				if !ok {
					continue
				}
				wg.Go(func() {
					reports[i] = metrics.ContextReport{Context: name, Report: p.client.Report(ctx, p.namespace, byContext[name], time.Now())}
				})
			}
			wg.Wait()
			var read []metrics.ContextReport
			for i, r := range reports {
				switch {
				case r.Context != "":
					read = append(read, r)
				default: // no Prometheus for this context
					read = append(read, metrics.ContextReport{Context: src.contexts[i], Off: true})
				}
			}
			return metrics.MergeReports(read)
		}
		if o.Watch {
			src.feed = feed
		}
	}
	return src, nil
}

// withUnread adds the contexts that did not answer to err: the others were printed, the
// command still fails, naming each.
func (r *statusRun) withUnread(err error) error {
	if len(r.src.failed) == 0 {
		return err
	}
	for _, f := range r.src.failed {
		fmt.Fprintf(r.ErrOut, "error: %v\n", f)
	}
	if err != nil {
		return err
	}
	return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d of %d contexts not read", len(r.src.failed), len(r.src.failed)+len(r.src.contexts))}
}
