package kube

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// stripForCache keeps only what the views read, so a cached pod costs about a kilobyte
// instead of the ten or more the API returns (managed fields, volumes, env, probes...).
// ReplicaSets keep their whole pod template: revision diffs and rollback need it.
func stripForCache(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Pod:
		return slimPod(o), nil
	case *appsv1.ReplicaSet:
		o.ManagedFields = nil
		delete(o.Annotations, lastAppliedAnnotation)
		return o, nil
	case *appsv1.Deployment:
		o.ManagedFields = nil
		delete(o.Annotations, lastAppliedAnnotation)
		return o, nil
	}
	return obj, nil
}

func slimPod(p *corev1.Pod) *corev1.Pod {
	out := &corev1.Pod{
		TypeMeta: p.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name:              p.Name,
			Namespace:         p.Namespace,
			UID:               p.UID,
			ResourceVersion:   p.ResourceVersion,
			Labels:            p.Labels,
			OwnerReferences:   p.OwnerReferences,
			CreationTimestamp: p.CreationTimestamp,
			DeletionTimestamp: p.DeletionTimestamp,
		},
		Spec: corev1.PodSpec{NodeName: p.Spec.NodeName},
		Status: corev1.PodStatus{
			Phase:                 p.Status.Phase,
			Reason:                p.Status.Reason,
			Message:               p.Status.Message,
			PodIP:                 p.Status.PodIP,
			StartTime:             p.Status.StartTime,
			ContainerStatuses:     p.Status.ContainerStatuses,
			InitContainerStatuses: p.Status.InitContainerStatuses,
		},
	}
	for _, c := range p.Spec.Containers {
		slim := corev1.Container{Name: c.Name, Image: c.Image}
		if mem, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
			slim.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: mem}
		}
		out.Spec.Containers = append(out.Spec.Containers, slim)
	}
	for _, c := range p.Status.Conditions {
		c.LastProbeTime = metav1.Time{}
		out.Status.Conditions = append(out.Status.Conditions, c)
	}
	return out
}
