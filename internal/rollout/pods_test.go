package rollout

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func pod(mutate func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "api-1", CreationTimestamp: metav1.NewTime(t0)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "ghcr.io/acme/api:1"}}},
		Status: corev1.PodStatus{
			Phase:      corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0)}},
			ContainerStatuses: []corev1.ContainerStatus{{
				Name: "app", Ready: true, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			}},
		},
	}
	if mutate != nil {
		mutate(p)
	}
	return p
}

func notReady(p *corev1.Pod) {
	p.Status.Conditions[0].Status = corev1.ConditionFalse
	p.Status.ContainerStatuses[0].Ready = false
}

func TestBuildPod(t *testing.T) {
	cases := []struct {
		name      string
		pod       *corev1.Pod
		reason    safetext.Text
		ready     bool
		exitCode  int32 // -1: none
		hint      safetext.Text
		restarts  int32
		detailHas string
		failing   bool
	}{
		{name: "ready", pod: pod(nil), ready: true, exitCode: -1},
		{name: "crash loop with a Python exception", pod: pod(func(p *corev1.Pod) {
			notReady(p)
			cs := &p.Status.ContainerStatuses[0]
			cs.RestartCount = 4
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s"}}
			cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: "Traceback (most recent call last):\nModuleNotFoundError: No module named 'orjson'"}}
		}), reason: "CrashLoopBackOff", exitCode: 1, hint: "ModuleNotFoundError: No module named 'orjson'", restarts: 4, detailHas: "back-off", failing: true},
		{name: "a crash after an init container that completed keeps the crash's traceback", pod: pod(func(p *corev1.Pod) {
			notReady(p)
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "migrate", State: corev1.ContainerState{
				Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", Message: "migrations applied"}}}}
			cs := &p.Status.ContainerStatuses[0]
			cs.RestartCount = 3
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 20s"}}
			cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", Message: "Traceback (most recent call last):\nKeyError: 'DATABASE_URL'"}}
		}), reason: "CrashLoopBackOff", exitCode: 1, hint: "KeyError: 'DATABASE_URL'", restarts: 3, detailHas: "back-off", failing: true},
		{name: "OOMKilled names the cause and the limit", pod: pod(func(p *corev1.Pod) {
			notReady(p)
			p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")}
			cs := &p.Status.ContainerStatuses[0]
			cs.RestartCount = 2
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}
			cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}
		}), reason: "OOMKilled", exitCode: 137, hint: "OOMKilled: the container exceeded its memory limit (512Mi)", restarts: 2, detailHas: "CrashLoopBackOff", failing: true},
		{name: "image pull back-off", pod: pod(func(p *corev1.Pod) {
			notReady(p)
			p.Status.Phase = corev1.PodPending
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: `Back-off pulling image "ghcr.io/acme/api:typo"`}}
		}), reason: "ImagePullBackOff", exitCode: -1, detailHas: "typo", failing: true},
		{name: "bad config", pod: pod(func(p *corev1.Pod) {
			notReady(p)
			p.Status.Phase = corev1.PodPending
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: `secret "db" not found`}}
		}), reason: "CreateContainerConfigError", exitCode: -1, detailHas: "secret", failing: true},
		{name: "exited with an error", pod: pod(func(p *corev1.Pod) {
			notReady(p)
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error", Message: "SystemExit: 3"}}
		}), reason: "Error", exitCode: 3, hint: "SystemExit: 3", failing: true},
		{name: "still creating is pending, not failing", pod: pod(func(p *corev1.Pod) {
			notReady(p)
			p.Status.Phase = corev1.PodPending
			p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
		}), reason: "Pending", exitCode: -1},
		{name: "unschedulable", pod: pod(func(p *corev1.Pod) {
			p.Status = corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/3 nodes are available: 3 Insufficient memory."},
			}}
		}), reason: "Unschedulable", exitCode: -1, detailHas: "Insufficient memory"},
		{name: "running but not ready", pod: pod(func(p *corev1.Pod) {
			notReady(p)
			p.Status.Conditions[0].Message = "containers with unready status: [app]"
		}), reason: "NotReady", exitCode: -1, detailHas: "unready"},
		{name: "terminating wins", pod: pod(func(p *corev1.Pod) {
			now := metav1.NewTime(t0)
			p.DeletionTimestamp = &now
		}), reason: "Terminating", ready: true, exitCode: -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := BuildPod(c.pod)
			if got.Reason != c.reason || got.Ready != c.ready || got.Hint != c.hint || got.Restarts != c.restarts || got.Failing() != c.failing {
				t.Errorf("got reason %q ready %v hint %q restarts %d failing %v; want %q %v %q %d %v",
					got.Reason, got.Ready, got.Hint, got.Restarts, got.Failing(), c.reason, c.ready, c.hint, c.restarts, c.failing)
			}
			switch {
			case c.exitCode < 0 && got.ExitCode != nil:
				t.Errorf("exit code %d, want none", *got.ExitCode)
			case c.exitCode >= 0 && (got.ExitCode == nil || *got.ExitCode != c.exitCode):
				t.Errorf("exit code %v, want %d", got.ExitCode, c.exitCode)
			}
			if c.detailHas != "" && !strings.Contains(string(got.Detail), c.detailHas) {
				t.Errorf("detail %q lacks %q", got.Detail, c.detailHas)
			}
			if !got.Ready && got.NotReadySince == nil {
				t.Errorf("a pod that is not ready needs NotReadySince")
			}
		})
	}
}
