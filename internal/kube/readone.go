package kube

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

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
	default:
		return rollout.Objects{}, fmt.Errorf("%s: kubectl-pyroll does not read %q rollouts yet", target, target.Kind)
	}
}

func readDeployment(ctx context.Context, api kubeapi.API, namespace, name string) (rollout.Objects, error) {
	dep, err := api.Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return rollout.Objects{}, fmt.Errorf("deployment %s/%s: %w", namespace, name, err)
	}
	replicaSets, err := OwnedReplicaSets(ctx, api, dep)
	if err != nil {
		return rollout.Objects{}, fmt.Errorf("replicasets of deployment %s/%s: %w", namespace, name, err)
	}
	selector, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil {
		return rollout.Objects{}, fmt.Errorf("deployment %s/%s has an invalid selector: %w", namespace, name, err)
	}
	podList, err := api.Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return rollout.Objects{}, fmt.Errorf("pods of deployment %s/%s: %w", namespace, name, err)
	}
	pods := make([]*corev1.Pod, len(podList.Items))
	for i := range podList.Items {
		pods[i] = &podList.Items[i]
	}
	return rollout.Objects{
		Deployments: []*appsv1.Deployment{dep},
		ReplicaSets: replicaSets,
		Pods:        pods,
		Events:      recentEventsOf(ctx, api, namespace, dep),
	}, nil
}

// OwnedReplicaSets are the ReplicaSets the Deployment controls (one per revision).
func OwnedReplicaSets(ctx context.Context, api kubeapi.API, dep *appsv1.Deployment) ([]*appsv1.ReplicaSet, error) {
	selector, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s has an invalid selector: %w", dep.Namespace, dep.Name, err)
	}
	list, err := api.ReplicaSets(dep.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
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

// recentEventsOf reads the events about the Deployment (by its UID) and about
// ReplicaSets in its namespace (by kind: a ReplicaSet's name cannot be selected by
// prefix, and one request beats one per revision); rollout.Build keeps those of its own
// ReplicaSets. Pod events, most of a busy namespace's, are never read. Events are a
// nicety: without the right to list them the rest stands, so errors leave them out.
func recentEventsOf(ctx context.Context, api kubeapi.API, namespace string, dep *appsv1.Deployment) []*corev1.Event {
	var events []*corev1.Event
	seen := map[string]bool{} // by name: a server that ignores a selector must not double them
	for _, selector := range []fields.Selector{
		fields.OneTermEqualSelector("involvedObject.uid", string(dep.UID)),
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
