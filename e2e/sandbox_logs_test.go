//go:build e2e

// The sandbox's own tests: they test the test bed, not kubectl-pyroll. They exist to prove
// the bed is real: `kubectl logs` (also --previous) serves what the sample pods really
// printed, and the demo's broken release really fails at import. Then a failing product
// test of logs means the product is wrong, not the bed. Named TestSandbox..., as in
// sandbox_cluster_test.go.

package e2e

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/demo"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
)

// `kubectl logs` on a serving sample pod shows what its gunicorn and app really printed,
// served by kwok's kubelet API from the file the pod runner writes.
func TestSandboxLogsOfARunningPodAreTheServicesOutput(t *testing.T) {
	sb := sandboxtest.Get(t)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatal("kubectl is not on PATH: the logs test needs it")
	}
	pod := demoPodWhere(t, "app=orders-api", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning && podIsReady(p)
	})
	var out string
	eventually(t, time.Minute, "kubectl logs "+pod.Name+" showing gunicorn's boot and the app's own line", func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		raw, err := exec.CommandContext(ctx, kubectl, "--kubeconfig", sb.Kubeconfig, "-n", demo.Namespace, "logs", "pod/"+pod.Name, "-c", "app").CombinedOutput()
		out = string(raw)
		if err != nil {
			return errorf("kubectl logs: %v: %s", err, out)
		}
		for _, want := range []string{"Starting gunicorn", "Booting worker with pid", "sample service " + pod.Annotations["app.kubernetes.io/version"]} {
			if !strings.Contains(out, want) {
				return errorf("no %q in:\n%s", want, out)
			}
		}
		return nil
	})
	if strings.Contains(out, "Traceback") {
		t.Errorf("a healthy pod's log holds a traceback:\n%s", out)
	}
}

// search-api's revision 2 imports orjson, which Debian's python3 lacks: its pods' logs, the
// current and the previous container's, hold the real traceback and gunicorn giving up.
func TestSandboxLogsOfACrashLoopingPodHoldTheImportError(t *testing.T) {
	sb := sandboxtest.Get(t)
	pod := demoPodWhere(t, "app=search-api,"+sandbox.CrashLabel, func(p *corev1.Pod) bool {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" {
				return true
			}
		}
		return false
	})
	if pod.Annotations["app.kubernetes.io/version"] != demo.SearchV2.Version {
		t.Fatalf("crash-looping search-api pod %s is version %q; want %s", pod.Name, pod.Annotations["app.kubernetes.io/version"], demo.SearchV2.Version)
	}
	pods := sb.Client().CoreV1().Pods(demo.Namespace)
	for _, previous := range []bool{false, true} {
		what := "logs"
		if previous {
			what = "previous logs"
		}
		eventually(t, time.Minute, what+" of "+pod.Name+" holding the import error", func(ctx context.Context) error {
			raw, err := pods.GetLogs(pod.Name, &corev1.PodLogOptions{Container: "app", Previous: previous}).DoRaw(ctx)
			if err != nil {
				return err
			}
			out := string(raw)
			for _, want := range []string{
				"Traceback (most recent call last):",
				"ModuleNotFoundError: No module named 'orjson'",
				"Worker failed to boot",
			} {
				if !strings.Contains(out, want) {
					return errorf("no %q in:\n%s", want, out)
				}
			}
			return nil
		})
	}
}

// demoPodWhere waits for a pod of the demo namespace matching selector and ok.
func demoPodWhere(t *testing.T, selector string, ok func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var found *corev1.Pod
	eventually(t, time.Minute, "a demo pod "+selector, func(ctx context.Context) error {
		pods, err := sandboxtest.Get(t).Client().CoreV1().Pods(demo.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return err
		}
		for i := range pods.Items {
			if p := &pods.Items[i]; p.DeletionTimestamp == nil && ok(p) {
				found = p
				return nil
			}
		}
		return errorf("%d pods match %s, none in the state wanted", len(pods.Items), selector)
	})
	return found
}

func podIsReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
