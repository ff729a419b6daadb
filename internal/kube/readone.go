package kube

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// ReadOne reads one rollout from the API server, now, as rollout.Build wants it: the
// object, the ReplicaSets it controls, their pods and the recent events about them.
// history, diff, snapshot and the actions all read a rollout this way, so that they
// agree with each other and with the watcher (pods belong to a revision by controller
// reference, as in rollout.Build). Errors keep the API status (apierrors.IsNotFound works).
func ReadOne(ctx context.Context, api kubeapi.API, target ref.Rollout) (rollout.Objects, error) {
	switch target.Kind {
	case ref.Deployment:
		return readDeployment(ctx, api, target.Namespace, target.Name)
	case ref.ArgoRollout:
		return readArgoRollout(ctx, api, target.Namespace, target.Name)
	default:
		return rollout.Objects{}, fmt.Errorf("%s: kubectl-pyroll does not read %q rollouts yet", target, target.Kind)
	}
}

func readDeployment(ctx context.Context, api kubeapi.API, namespace, name string) (rollout.Objects, error) {
	dep, err := api.Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return rollout.Objects{}, fmt.Errorf("deployment %s/%s: %w", namespace, name, err)
	}
	replicaSets, err := OwnedReplicaSets(ctx, api, dep.Namespace, dep.UID, dep.Spec.Selector)
	if err != nil {
		return rollout.Objects{}, fmt.Errorf("replicasets of deployment %s/%s: %w", namespace, name, err)
	}
	pods, err := selectedPods(ctx, api, namespace, dep.Spec.Selector)
	if err != nil {
		return rollout.Objects{}, fmt.Errorf("pods of deployment %s/%s: %w", namespace, name, err)
	}
	return rollout.Objects{
		Deployments: []*appsv1.Deployment{dep},
		ReplicaSets: replicaSets,
		Pods:        pods,
		Events:      recentEventsOf(ctx, api, namespace, dep.UID),
	}, nil
}

// readArgoRollout reads an Argo Rollout as readDeployment reads a Deployment, plus its
// AnalysisRuns.
func readArgoRollout(ctx context.Context, api kubeapi.API, namespace, name string) (rollout.Objects, error) {
	ro, err := api.Rollouts(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return rollout.Objects{}, fmt.Errorf("rollout %s/%s: %w", namespace, name, err)
	}
	// A workloadRef Rollout's selector is its Deployment's; argo writes it to status.selector.
	selector := ro.Spec.Selector
	if selector == nil {
		if selector, err = metav1.ParseToLabelSelector(ro.Status.Selector); err != nil {
			return rollout.Objects{}, fmt.Errorf("rollout %s/%s has an invalid status.selector: %w", namespace, name, err)
		}
	}
	replicaSets, err := OwnedReplicaSets(ctx, api, namespace, ro.UID, selector)
	if err != nil {
		return rollout.Objects{}, fmt.Errorf("replicasets of rollout %s/%s: %w", namespace, name, err)
	}
	pods, err := selectedPods(ctx, api, namespace, selector)
	if err != nil {
		return rollout.Objects{}, fmt.Errorf("pods of rollout %s/%s: %w", namespace, name, err)
	}
	runs, err := api.AnalysisRuns(namespace).List(ctx, metav1.ListOptions{})
	switch {
	case apierrors.IsForbidden(err):
		// AnalysisRuns are a nicety, as events are: without the right to list them the rest
		// stands (an abort must not wait on the right to read analysis).
		runs = &argo.AnalysisRunList{}
	case err != nil:
		return rollout.Objects{}, fmt.Errorf("analysisruns of rollout %s/%s: %w", namespace, name, err)
	}
	var owned []*argo.AnalysisRun
	for i := range runs.Items {
		if owner := metav1.GetControllerOfNoCopy(&runs.Items[i]); owner != nil && owner.UID == ro.UID {
			owned = append(owned, &runs.Items[i])
		}
	}
	return rollout.Objects{
		Rollouts:     []*argo.Rollout{ro},
		AnalysisRuns: owned,
		ReplicaSets:  replicaSets,
		Pods:         pods,
		Events:       recentEventsOf(ctx, api, namespace, ro.UID),
	}, nil
}

// OwnedReplicaSets are the ReplicaSets the rollout with this UID and selector controls
// (one per revision).
func OwnedReplicaSets(ctx context.Context, api kubeapi.API, namespace string, owner types.UID, selector *metav1.LabelSelector) ([]*appsv1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return nil, fmt.Errorf("invalid selector: %w", err)
	}
	list, err := api.ReplicaSets(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	var owned []*appsv1.ReplicaSet
	for i := range list.Items {
		if ref := metav1.GetControllerOfNoCopy(&list.Items[i]); ref != nil && ref.UID == owner {
			owned = append(owned, &list.Items[i])
		}
	}
	return owned, nil
}

// selectedPods lists the pods the selector selects.
func selectedPods(ctx context.Context, api kubeapi.API, namespace string, selector *metav1.LabelSelector) ([]*corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return nil, fmt.Errorf("invalid selector: %w", err)
	}
	podList, err := api.Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	pods := make([]*corev1.Pod, len(podList.Items))
	for i := range podList.Items {
		pods[i] = &podList.Items[i]
	}
	return pods, nil
}

// recentEventsOf reads the events about the rollout (by its UID) and about
// ReplicaSets in its namespace (by kind: a ReplicaSet's name cannot be selected by
// prefix, and one request beats one per revision); rollout.Build keeps those of its own
// ReplicaSets. Pod events, most of a busy namespace's, are never read. Events are a
// nicety: without the right to list them the rest stands, so errors leave them out.
func recentEventsOf(ctx context.Context, api kubeapi.API, namespace string, uid types.UID) []*corev1.Event {
	var events []*corev1.Event
	seen := map[string]bool{} // by name: a server that ignores a selector must not double them
	for _, selector := range []fields.Selector{
		fields.OneTermEqualSelector("involvedObject.uid", string(uid)),
		fields.OneTermEqualSelector("involvedObject.kind", "ReplicaSet"),
	} {
		list, err := api.Events(namespace).List(ctx, metav1.ListOptions{FieldSelector: selector.String()})
		if err != nil {
			continue
		}
		for i := range list.Items {
			if e := &list.Items[i]; !seen[e.Name] {
				seen[e.Name] = true
				events = append(events, e)
			}
		}
	}
	return events
}
