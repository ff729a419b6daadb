package rollout

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// waitingReasonsThatAreNormal are waiting reasons of a container that is simply starting.
var waitingReasonsThatAreNormal = map[string]bool{"ContainerCreating": true, "PodInitializing": true}

// BuildPod reads one pod's health. Its text is made safe here (safetext): reasons and
// messages are written by the kubelet from what the container did, the termination
// message by the container itself.
// moreTelling says whether termination t tells more of why a pod fails than the one kept so
// far: a failure over a success (an init container that completed says nothing of the app
// crashing after it, whose message holds the Python traceback), OOMKilled over another
// failure.
func moreTelling(t, kept *corev1.ContainerStateTerminated) bool {
	switch {
	case kept == nil:
		return true
	case (t.ExitCode != 0) != (kept.ExitCode != 0):
		return t.ExitCode != 0
	default:
		return t.Reason == ReasonOOMKilled && kept.Reason != ReasonOOMKilled
	}
}

func BuildPod(p *corev1.Pod) Pod {
	view := Pod{
		Name:      safeName(p.Name),
		Phase:     safetext.Line(string(p.Status.Phase)),
		Node:      safetext.Line(p.Spec.NodeName),
		IP:        safetext.Line(p.Status.PodIP),
		CreatedAt: p.CreationTimestamp.Time,
	}
	ready := podCondition(p, corev1.PodReady)
	view.Ready = ready != nil && ready.Status == corev1.ConditionTrue
	if !view.Ready {
		since := p.CreationTimestamp.Time
		if ready != nil && !ready.LastTransitionTime.IsZero() {
			since = ready.LastTransitionTime.Time
		}
		view.NotReadySince = &since
	}

	var lastTermination *corev1.ContainerStateTerminated
	for i := range len(p.Status.InitContainerStatuses) + len(p.Status.ContainerStatuses) {
		cs := containerStatus(p, i)
		view.Restarts += cs.RestartCount
		term := cs.State.Terminated
		if term == nil {
			term = cs.LastTerminationState.Terminated
		}
		if term != nil && moreTelling(term, lastTermination) {
			lastTermination = term
		}
		if view.Reason != "" {
			continue
		}
		switch {
		case cs.State.Waiting != nil && !waitingReasonsThatAreNormal[cs.State.Waiting.Reason] && cs.State.Waiting.Reason != "":
			view.Reason, view.Detail = safetext.Line(cs.State.Waiting.Reason), safetext.Line(cs.State.Waiting.Message)
			// A container that crash-loops because it runs out of memory: the cause is
			// what the on-call engineer needs, the back-off is only the consequence.
			if last := cs.LastTerminationState.Terminated; last != nil && last.Reason == ReasonOOMKilled {
				view.Reason, view.Detail = ReasonOOMKilled, view.Reason
			}
		case cs.State.Terminated != nil && cs.State.Terminated.ExitCode != 0:
			view.Reason = safetext.Line(cs.State.Terminated.Reason)
			if view.Reason == "" {
				view.Reason = ReasonError
			}
		}
	}
	if lastTermination != nil {
		code := lastTermination.ExitCode
		view.ExitCode = &code
		view.TerminationMessage = safetext.Block(lastTermination.Message)
	}

	switch {
	case p.DeletionTimestamp != nil:
		view.Reason, view.Detail = ReasonTerminating, ""
	case view.Reason != "":
	case p.Status.Phase == corev1.PodPending:
		view.Reason = ReasonPending
		if sched := podCondition(p, corev1.PodScheduled); sched != nil && sched.Status == corev1.ConditionFalse && sched.Reason == corev1.PodReasonUnschedulable {
			view.Reason, view.Detail = ReasonUnschedulable, safetext.Line(sched.Message)
		}
	case p.Status.Phase == corev1.PodFailed:
		view.Reason, view.Detail = ReasonError, safetext.Line(p.Status.Message)
		if p.Status.Reason != "" {
			view.Reason = safetext.Line(p.Status.Reason)
		}
	case !view.Ready && p.Status.Phase == corev1.PodRunning:
		view.Reason = ReasonNotReady
		if ready != nil {
			view.Detail = safetext.Line(ready.Message)
		}
	}
	if view.Reason != "" {
		view.Hint = pythonHint(view, p)
	}
	return view
}

// containerStatus indexes init container statuses, then container statuses, without copying.
func containerStatus(p *corev1.Pod, i int) *corev1.ContainerStatus {
	if i < len(p.Status.InitContainerStatuses) {
		return &p.Status.InitContainerStatuses[i]
	}
	return &p.Status.ContainerStatuses[i-len(p.Status.InitContainerStatuses)]
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func memoryLimit(p *corev1.Pod) string {
	for _, c := range p.Spec.Containers {
		if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
			return q.String()
		}
	}
	return ""
}
