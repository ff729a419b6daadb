package workload

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// SetPaused sets spec.paused on a Deployment.
func SetPaused(ctx context.Context, client kubernetes.Interface, ns, name string, paused bool) error {
	patch := fmt.Sprintf(`{"spec":{"paused":%t}}`, paused)
	_, err := client.AppsV1().Deployments(ns).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "pyroll-sandbox"})
	if err != nil {
		return fmt.Errorf("set paused=%t on %s/%s: %w", paused, ns, name, err)
	}
	return nil
}

// DeploymentComplete is `kubectl rollout status`'s idea of done.
func DeploymentComplete(d *appsv1.Deployment) bool {
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	s := d.Status
	return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == replicas &&
		s.Replicas == replicas && s.AvailableReplicas == replicas
}

// WaitDeployment polls the Deployment until cond holds, for at most timeout.
func WaitDeployment(ctx context.Context, client kubernetes.Interface, ns, name string, timeout time.Duration, what string, cond func(*appsv1.Deployment) bool) error {
	var last *appsv1.Deployment
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		d, err := client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = d
		return cond(d), nil
	})
	if err != nil {
		state := "not found"
		if last != nil {
			s := last.Status
			state = fmt.Sprintf("replicas=%d updated=%d ready=%d available=%d unavailable=%d", s.Replicas, s.UpdatedReplicas, s.ReadyReplicas, s.AvailableReplicas, s.UnavailableReplicas)
		}
		return fmt.Errorf("deployment %s/%s not %s after %s (%s)", ns, name, what, timeout, state)
	}
	return nil
}
