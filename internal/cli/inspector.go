package cli

import (
	"context"
	"os"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/revisions"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/snapshot"
	"github.com/pyroll/kubectl-pyroll/internal/version"
	"github.com/pyroll/kubectl-pyroll/ui/app"
)

// logTail is how many lines of a pod's log the console reads: enough for a traceback
// with its chained causes.
const logTail = 300

// inspector answers the console's d, l and x keys against the cluster.
type inspector struct {
	cluster    *kube.Cluster
	thresholds guard.Thresholds
}

func (i inspector) Diff(ctx context.Context, namespace, name string) (app.DiffView, error) {
	h, err := revisions.Load(ctx, i.cluster.Client, namespace, name, time.Now())
	if err != nil {
		return app.DiffView{}, err
	}
	from, to, err := h.DefaultPair()
	if err != nil {
		return app.DiffView{}, err
	}
	d, err := h.Diff(from, to)
	return app.DiffView{From: from, To: to, Diff: d}, err
}

// Logs reads the log that explains the pod: the previous container's when it restarted
// (the crash), else the current one's.
func (i inspector) Logs(ctx context.Context, namespace string, pod rollout.Pod) (app.LogView, error) {
	if pod.Restarts > 0 {
		if text, err := kube.PodLogs(ctx, i.cluster.Client, namespace, pod.Name, "", true, logTail); err == nil && text != "" {
			return app.LogView{Pod: pod.Name, Previous: true, Text: text}, nil
		}
	}
	text, err := kube.PodLogs(ctx, i.cluster.Client, namespace, pod.Name, "", false, logTail)
	return app.LogView{Pod: pod.Name, Text: text}, err
}

func (i inspector) Snapshot(ctx context.Context, r rollout.Rollout, report metrics.Report) (string, string, error) {
	facts, err := snapshotFacts(ctx, i.cluster, r.Namespace, r.Name, report, i.thresholds)
	if err != nil {
		return "", "", err
	}
	md := snapshot.Markdown(facts)
	dir := "."
	if f, err := os.CreateTemp(dir, ".pyroll-write-test"); err == nil {
		f.Close()
		os.Remove(f.Name())
	} else {
		dir = os.TempDir() // the console may run where it cannot write
	}
	path, err := snapshot.Write(dir, facts, md)
	return path, md, err
}

// snapshotFacts reads the rollout fresh from the API server, with what changed from its
// stable revision to its canary.
func snapshotFacts(ctx context.Context, cluster *kube.Cluster, namespace, name string, report metrics.Report, thresholds guard.Thresholds) (snapshot.Facts, error) {
	now := time.Now()
	h, err := revisions.Load(ctx, cluster.Client, namespace, name, now)
	if err != nil {
		return snapshot.Facts{}, err
	}
	facts := snapshot.Facts{Context: cluster.Context, Rollout: h.Rollout, Metrics: report, Defaults: thresholds, Taken: now, Version: version.Version}
	if from, to, err := h.DefaultPair(); err == nil {
		if d, err := h.Diff(from, to); err == nil {
			facts.Diff, facts.FromRevision, facts.ToRevision = &d, from, to
		} else {
			facts.DiffError = err.Error()
		}
	}
	return facts, nil
}
