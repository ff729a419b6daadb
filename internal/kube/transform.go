package kube

import (
	"sync"

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
	case *corev1.Event:
		return &corev1.Event{
			ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: intern(o.Namespace), UID: o.UID,
				ResourceVersion: o.ResourceVersion, CreationTimestamp: o.CreationTimestamp},
			InvolvedObject: corev1.ObjectReference{Kind: intern(o.InvolvedObject.Kind), Name: o.InvolvedObject.Name, UID: o.InvolvedObject.UID},
			Reason:         o.Reason, Message: o.Message, Type: intern(o.Type), Count: o.Count,
			LastTimestamp: o.LastTimestamp, EventTime: o.EventTime, Series: o.Series,
		}, nil
	case *appsv1.Deployment:
		o.ManagedFields = nil
		delete(o.Annotations, lastAppliedAnnotation)
		return o, nil
	}
	return obj, nil
}

func slimPod(p *corev1.Pod) *corev1.Pod {
	out := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:              p.Name,
			Namespace:         intern(p.Namespace),
			UID:               p.UID,
			ResourceVersion:   p.ResourceVersion,
			CreationTimestamp: p.CreationTimestamp,
			DeletionTimestamp: p.DeletionTimestamp,
		},
		Spec: corev1.PodSpec{NodeName: intern(p.Spec.NodeName)},
		Status: corev1.PodStatus{
			Phase:   corev1.PodPhase(intern(string(p.Status.Phase))),
			Reason:  p.Status.Reason,
			Message: p.Status.Message,
			PodIP:   p.Status.PodIP,
		},
	}
	// Only the controller reference: it ties the pod to its ReplicaSet (revision).
	if owner := metav1.GetControllerOfNoCopy(p); owner != nil {
		out.OwnerReferences = []metav1.OwnerReference{{Kind: intern(owner.Kind), Name: owner.Name, UID: owner.UID, Controller: &isController}}
	}
	// Ready and PodScheduled are the conditions the views read.
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady || (c.Type == corev1.PodScheduled && c.Status != corev1.ConditionTrue) {
			out.Status.Conditions = append(out.Status.Conditions, corev1.PodCondition{
				Type: corev1.PodConditionType(intern(string(c.Type))), Status: corev1.ConditionStatus(intern(string(c.Status))),
				Reason: c.Reason, Message: c.Message, LastTransitionTime: c.LastTransitionTime,
			})
		}
	}
	out.Status.InitContainerStatuses = slimStatuses(p.Status.InitContainerStatuses)
	out.Status.ContainerStatuses = slimStatuses(p.Status.ContainerStatuses)
	// The memory limit matters only to explain an OOM kill.
	if oomKilled(p.Status.ContainerStatuses) {
		for _, c := range p.Spec.Containers {
			if mem, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
				out.Spec.Containers = append(out.Spec.Containers, corev1.Container{Name: c.Name,
					Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: mem}}})
			}
		}
	}
	return out
}

func slimStatuses(in []corev1.ContainerStatus) []corev1.ContainerStatus {
	if len(in) == 0 {
		return nil
	}
	out := make([]corev1.ContainerStatus, len(in))
	for i, cs := range in {
		out[i] = corev1.ContainerStatus{
			Name: intern(cs.Name), Ready: cs.Ready, RestartCount: cs.RestartCount,
			State: cs.State, LastTerminationState: cs.LastTerminationState, ImageID: intern(cs.ImageID),
		}
		// When it started is not shown; one shared value saves an allocation per pod.
		if cs.State.Running != nil {
			out[i].State.Running = &runningState
		}
	}
	return out
}

func oomKilled(statuses []corev1.ContainerStatus) bool {
	for _, cs := range statuses {
		for _, t := range []*corev1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
			if t != nil && t.Reason == "OOMKilled" {
				return true
			}
		}
	}
	return false
}

var (
	isController = true
	runningState corev1.ContainerStateRunning
)

// interned holds strings that thousands of cached pods repeat (namespace, node, phase,
// condition types): one copy each instead of one per pod.
var interned = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

const maxInterned = 50000

func intern(s string) string {
	if s == "" {
		return ""
	}
	interned.Lock()
	defer interned.Unlock()
	if v, ok := interned.m[s]; ok {
		return v
	}
	if len(interned.m) < maxInterned {
		interned.m[s] = s
	}
	return s
}
