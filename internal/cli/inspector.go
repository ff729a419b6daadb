package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/guard"
	"github.com/pyroll/kubectl-pyroll/internal/incident"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/revisions"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
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

func (i inspector) Diff(ctx context.Context, target ref.Rollout) (app.DiffView, error) {
	h, err := readHistory(ctx, i.cluster, target, time.Now())
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
func (i inspector) Logs(ctx context.Context, target ref.Rollout, pod rollout.Pod) (app.LogView, error) {
	namespace := target.Namespace
	if pod.Restarts > 0 {
		if text, err := kube.PodLogs(ctx, i.cluster.Client, namespace, pod.Name, "", true, logTail); err == nil && text != "" {
			return app.LogView{Pod: pod.Name, Previous: true, Text: text}, nil
		}
	}
	text, err := kube.PodLogs(ctx, i.cluster.Client, namespace, pod.Name, "", false, logTail)
	return app.LogView{Pod: pod.Name, Text: text}, err
}

func (i inspector) Snapshot(ctx context.Context, r rollout.Rollout, report metrics.Report) (string, string, error) {
	evidence, err := incidentEvidence(ctx, i.cluster, r.Ref(), report, i.thresholds)
	if err != nil {
		return "", "", err
	}
	md := incident.Markdown(evidence)
	dir := "."
	if f, err := os.CreateTemp(dir, ".pyroll-write-test"); err == nil {
		f.Close()
		os.Remove(f.Name())
	} else {
		dir = os.TempDir() // the console may run where it cannot write
	}
	path, err := incident.Write(dir, evidence, md)
	return path, md, err
}

// incidentEvidence reads the rollout fresh from the API server, with what changed from its
// stable revision to its canary.
func incidentEvidence(ctx context.Context, cluster *kube.Cluster, target ref.Rollout, report metrics.Report, thresholds guard.Thresholds) (incident.Evidence, error) {
	now := time.Now()
	h, err := readHistory(ctx, cluster, target, now)
	if err != nil {
		return incident.Evidence{}, err
	}
	return evidenceOf(h, cluster.Context, report, thresholds, now), nil
}

// evidenceOf is the incident evidence of a rollout read now: its state and what changed
// from its stable revision to its canary.
func evidenceOf(h *revisions.History, context string, report metrics.Report, thresholds guard.Thresholds, now time.Time) incident.Evidence {
	evidence := incident.Evidence{Context: context, Rollout: h.Rollout, Metrics: report, Defaults: thresholds, Taken: now, Version: version.Version}
	if from, to, err := h.DefaultPair(); err == nil {
		if d, err := h.Diff(from, to); err == nil {
			evidence.Diff, evidence.FromRevision, evidence.ToRevision = &d, from, to
		} else {
			evidence.DiffError = err.Error()
		}
	}
	return evidence
}

// readHistory reads one rollout as it is now (kube.ReadOne) and its revisions.
func readHistory(ctx context.Context, cluster *kube.Cluster, target ref.Rollout, now time.Time) (*revisions.History, error) {
	objs, err := kube.ReadOne(ctx, cluster.Client, target)
	if err != nil {
		return nil, cluster.ExplainError(err)
	}
	h, err := revisions.FromObjects(objs, now)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	// Read through one context among several: its metrics are keyed with it.
	h.Rollout.Cluster = target.Cluster
	addCharts(ctx, cluster, h)
	return h, nil
}

// addCharts names the Helm chart of each revision a release of the rollout's Helm owner
// rendered (one LIST of that release's Secrets). Best effort: without access to them, the
// history is the same without the chart.
func addCharts(ctx context.Context, cluster *kube.Cluster, h *revisions.History) {
	r := &h.Rollout
	if r.Owner == nil || r.Owner.Owner == nil || r.Owner.Owner.Kind != owner.KindRelease {
		return
	}
	release := r.Owner.Owner
	secrets, err := cluster.Client.Secrets(release.Namespace).List(ctx, metav1.ListOptions{LabelSelector: owner.HelmReleasesSelector(release.Name)})
	if err != nil {
		return
	}
	kind := "Deployment"
	if r.Kind == ref.ArgoRollout {
		kind = "Rollout"
	}
	charts := owner.ChartsByRevision(secrets.Items, kind, r.Name, h.Templates())
	for i := range r.Revisions {
		if c, ok := charts[r.Revisions[i].Number]; ok {
			r.Revisions[i].Chart = &c
		}
	}
}
