// Package revisions reads one Deployment's revisions from the API server, on demand:
// their provenance for `history`, the "what changed" diff between two of them for `diff`
// and the console's d key, and the material of an incident snapshot.
package revisions

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// History is a Deployment as read now, with each revision's pod template.
type History struct {
	Rollout   rollout.Rollout
	templates map[int64]*corev1.PodTemplateSpec
	running   map[int64][]provenance.RunningImage
}

// OwnedReplicaSets are the ReplicaSets the Deployment controls (one per revision).
func OwnedReplicaSets(ctx context.Context, client kubeapi.API, dep *appsv1.Deployment) ([]*appsv1.ReplicaSet, error) {
	selector, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s has an invalid selector: %w", dep.Namespace, dep.Name, err)
	}
	list, err := client.ReplicaSets(dep.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, err
	}
	var owned []*appsv1.ReplicaSet
	for i := range list.Items {
		if owner := metav1.GetControllerOfNoCopy(&list.Items[i]); owner != nil && owner.UID == dep.UID {
			owned = append(owned, &list.Items[i])
		}
	}
	return owned, nil
}

// Load reads the Deployment, its ReplicaSets, pods and recent events.
func Load(ctx context.Context, client kubeapi.API, namespace, name string, now time.Time) (*History, error) {
	dep, err := client.Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s: %w", namespace, name, err)
	}
	replicaSets, err := OwnedReplicaSets(ctx, client, dep)
	if err != nil {
		return nil, fmt.Errorf("replicasets of %s/%s: %w", namespace, name, err)
	}
	selector, _ := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	podList, err := client.Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, fmt.Errorf("pods of %s/%s: %w", namespace, name, err)
	}
	pods := make([]*corev1.Pod, len(podList.Items))
	for i := range podList.Items {
		pods[i] = &podList.Items[i]
	}
	var events []*corev1.Event
	uids := map[string]bool{string(dep.UID): true}
	for _, rs := range replicaSets {
		uids[string(rs.UID)] = true
	}
	// Events are a nicety here: without the right to list them, the history stands.
	if list, err := client.Events(namespace).List(ctx, metav1.ListOptions{FieldSelector: fields.Everything().String()}); err == nil {
		for i := range list.Items {
			if uids[string(list.Items[i].InvolvedObject.UID)] {
				events = append(events, &list.Items[i])
			}
		}
	}
	built := rollout.Build(rollout.Objects{Deployments: []*appsv1.Deployment{dep}, ReplicaSets: replicaSets, Pods: pods, Events: events}, now)
	if len(built) != 1 {
		return nil, fmt.Errorf("deployment %s/%s: could not be read", namespace, name)
	}
	h := &History{Rollout: built[0], templates: map[int64]*corev1.PodTemplateSpec{}, running: map[int64][]provenance.RunningImage{}}
	podsByHash := map[string][]*corev1.Pod{}
	for _, p := range pods {
		podsByHash[p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]] = append(podsByHash[p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]], p)
	}
	for _, rs := range replicaSets {
		n := rollout.RevisionOf(rs)
		h.templates[n] = &rs.Spec.Template
		h.running[n] = rollout.RunningImages(podsByHash[rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]])
	}
	return h, nil
}

// DefaultPair is what "what changed" compares without --from/--to: the stable revision
// (else the one before the canary) to the canary.
func (h *History) DefaultPair() (from, to int64, err error) {
	r := h.Rollout
	to = r.CanaryRevision
	from = r.StableRevision
	if from == 0 || from == to {
		from = 0
		for _, rev := range r.Revisions {
			if rev.Number < to && rev.Number > from {
				from = rev.Number
			}
		}
	}
	if to == 0 || from == 0 {
		return 0, 0, fmt.Errorf("%s/%s has only one revision: nothing to compare", r.Namespace, r.Name)
	}
	return from, to, nil
}

// Diff is what changed from one revision to another.
func (h *History) Diff(from, to int64) (provenance.Diff, error) {
	a, okA := h.templates[from]
	b, okB := h.templates[to]
	if !okA || !okB {
		missing := from
		if okA {
			missing = to
		}
		return provenance.Diff{}, fmt.Errorf("%s/%s has no revision %d (it has %s)", h.Rollout.Namespace, h.Rollout.Name, missing, h.numbers())
	}
	return provenance.Compare(a, b, h.running[from], h.running[to]), nil
}

func (h *History) numbers() string {
	var ns []int64
	for n := range h.templates {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(parts, ", ")
}
