//go:build e2e

// The sandbox's own tests: they test the test bed, not kubectl-pyroll. They exist to prove
// the bed is real: a workload rolls out on real controllers, a crash-looping pod behaves as
// a real one does, the sample service really serves and Prometheus really scrapes it per
// revision, the API server reaches pods through its pod proxy, and the demo is seeded in the
// states the README promises. Then a failing product test means the product is wrong, not
// the bed. Named TestSandbox... so that `go test -tags e2e -run TestSandbox ./e2e/...`
// selects exactly them (here, sandbox_logs_test.go and sandbox_lifecycle_test.go); `make
// test` runs them with the rest.

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/demo"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

func TestSandboxSampleServiceBecomesAvailable(t *testing.T) {
	sb := sandboxtest.Get(t)
	ns := newNamespace(t)
	ctx := context.Background()
	release := workload.Release{Namespace: ns, Name: "hello-api", Image: "ghcr.io/acme/hello:1.0.0", Version: "1.0.0", GitSHA: "1111111", Replicas: 2}
	if _, err := release.Apply(ctx, sb.Client()); err != nil {
		t.Fatal(err)
	}
	if err := workload.WaitDeployment(ctx, sb.Client(), ns, "hello-api", 2*time.Minute, "available", workload.DeploymentComplete); err != nil {
		t.Fatal(err)
	}
	pods, err := sb.Client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=hello-api"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning || len(p.Status.ContainerStatuses) != 1 || !strings.HasSuffix(p.Status.ContainerStatuses[0].ImageID, release.ImageDigest()) {
			t.Errorf("pod %s: phase %s, statuses %+v; want Running with imageID ...@%s", p.Name, p.Status.Phase, p.Status.ContainerStatuses, release.ImageDigest())
		}
	}
}

// A release whose pods crash-loop must end in ProgressDeadlineExceeded while the stable
// pods stay available, and the ReplicaSet must not churn through pods meanwhile.
func TestSandboxCrashLoopingReleaseExceedsDeadlineWithoutChurn(t *testing.T) {
	sb := sandboxtest.Get(t)
	client := sb.Client()
	ns := newNamespace(t)
	ctx := context.Background()
	stable := workload.Release{Namespace: ns, Name: "crashy-api", Image: "ghcr.io/acme/crashy:1.0.0", Version: "1.0.0", GitSHA: "aaaaaaa", Replicas: 3}
	if _, err := stable.Apply(ctx, client); err != nil {
		t.Fatal(err)
	}
	if err := workload.WaitDeployment(ctx, client, ns, stable.Name, 2*time.Minute, "available", workload.DeploymentComplete); err != nil {
		t.Fatal(err)
	}
	stablePods := podUIDs(t, ns, "app=crashy-api")

	podWatch, err := client.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer podWatch.Stop()
	var mu sync.Mutex
	created := map[types.UID]string{}
	var crashing *corev1.Pod
	recorderDone := make(chan struct{})
	go func() {
		defer close(recorderDone)
		for ev := range podWatch.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok || ev.Type == watch.Error || stablePods[string(pod.UID)] {
				continue
			}
			mu.Lock()
			created[pod.UID] = pod.Name
			crashing = pod
			mu.Unlock()
		}
	}()

	broken := stable
	broken.Version, broken.Image, broken.GitSHA = "1.1.0", "ghcr.io/acme/crashy:1.1.0", "bbbbbbb"
	broken.CrashMessage = "Traceback (most recent call last):\nModuleNotFoundError: No module named 'orjson'"
	broken.MinReadySeconds = 5
	broken.ProgressDeadlineSeconds = 15
	if _, err := broken.Apply(ctx, client); err != nil {
		t.Fatal(err)
	}
	if err := workload.WaitDeployment(ctx, client, ns, stable.Name, 2*time.Minute, "past its progress deadline", func(d *appsv1.Deployment) bool {
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
	d, err := client.AppsV1().Deployments(ns).Get(ctx, stable.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status.AvailableReplicas != 3 {
		t.Errorf("stable pods not all available at the deadline: available=%d, want 3", d.Status.AvailableReplicas)
	}

	// Every pod created since the broken release started, as the watch saw them.
	podWatch.Stop()
	<-recorderDone
	mu.Lock()
	defer mu.Unlock()
	if len(created) != 1 {
		t.Fatalf("pods created by the crash-looping release: %v; want exactly 1 (no churn)", created)
	}
	cs := crashing.Status.ContainerStatuses
	if crashing.Status.Phase != corev1.PodRunning || len(cs) != 1 || cs[0].State.Waiting == nil || cs[0].State.Waiting.Reason != "CrashLoopBackOff" ||
		cs[0].LastTerminationState.Terminated == nil || !strings.Contains(cs[0].LastTerminationState.Terminated.Message, "No module named 'orjson'") {
		t.Errorf("crashing pod %s: phase %s, container statuses %+v; want Running + CrashLoopBackOff with the Python exception as last termination message",
			crashing.Name, crashing.Status.Phase, cs)
	}
}

func podUIDs(t *testing.T, ns, selector string) map[string]bool {
	t.Helper()
	pods, err := sandboxtest.Get(t).Client().CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	uids := map[string]bool{}
	for _, p := range pods.Items {
		uids[string(p.UID)] = true
	}
	return uids
}

// The demo's orders-api serves 0.5% errors on its stable revision and 5% on its canary;
// Prometheus, queried through client_golang, must see each within ±0.01.
func TestSandboxPrometheusErrorRatePerRevision(t *testing.T) {
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	configured := map[string]float64{} // pod_template_hash -> PYROLL_ERROR_RATE
	rsList, err := sb.Client().AppsV1().ReplicaSets(demo.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=orders-api"})
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range rsList.Items {
		for _, e := range rs.Spec.Template.Spec.Containers[0].Env {
			if e.Name == "PYROLL_ERROR_RATE" {
				var rate float64
				fmt.Sscan(e.Value, &rate)
				configured[rs.Labels["pod-template-hash"]] = rate
			}
		}
	}
	if len(configured) != 2 {
		t.Fatalf("orders-api revisions: %v; want stable and canary", configured)
	}
	client, err := promapi.NewClient(promapi.Config{Address: sb.PrometheusURL})
	if err != nil {
		t.Fatal(err)
	}
	api := promv1.NewAPI(client)
	const sel = `namespace="demo",pod=~"orders-api-.*"`
	query := fmt.Sprintf(`(sum by (pod_template_hash) (rate(http_requests_total{%[1]s,status=~"5.."}[1m]))
		or sum by (pod_template_hash) (rate(http_requests_total{%[1]s}[1m])) * 0)
		/ sum by (pod_template_hash) (rate(http_requests_total{%[1]s}[1m]))`, sel)
	eventually(t, 3*time.Minute, "5xx rate per revision within ±0.01 of the configured rate", func(ctx context.Context) error {
		value, _, _, err := api.Query(ctx, query, time.Now())
		if err != nil {
			return err
		}
		vector, ok := value.(model.Vector)
		if !ok {
			return errorf("result is a %s, not a vector", value.Type())
		}
		seen := map[string]float64{}
		for _, s := range vector {
			seen[string(s.Metric["pod_template_hash"])] = float64(s.Value)
		}
		for hash, want := range configured {
			got, ok := seen[hash]
			if !ok || math.IsNaN(got) || math.Abs(got-want) > 0.01 {
				return errorf("revision %s: 5xx rate %v (present %v), configured %v; all: %v", hash, got, ok, want, seen)
			}
		}
		return nil
	})
}

func TestSandboxBuildinfoThroughPodProxy(t *testing.T) {
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	pods, err := sb.Client().CoreV1().Pods(demo.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=payments-api"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("payments-api pods: %v (%v)", pods, err)
	}
	pod := pods.Items[0].Name
	var info struct {
		GitSHA        string `json:"git_sha"`
		LockHash      string `json:"lock_hash"`
		PipelineRun   string `json:"pipeline_run"`
		PythonVersion string `json:"python_version"`
	}
	eventually(t, time.Minute, "GET /buildinfo through the pod proxy", func(ctx context.Context) error {
		raw, err := sb.Client().CoreV1().Pods(demo.Namespace).ProxyGet("http", pod, "8080", "/buildinfo", nil).DoRaw(ctx)
		if err != nil {
			return err
		}
		return json.Unmarshal(raw, &info)
	})
	if info.GitSHA != demo.PaymentsV1.GitSHA || info.LockHash != demo.PaymentsV1.LockHash || info.PipelineRun != demo.PaymentsV1.Pipeline || info.PythonVersion == "" {
		t.Errorf("buildinfo of %s = %+v; want the payments-api v%s build", pod, info, demo.PaymentsV1.Version)
	}
}

// The seeded demo is in the states the README promises.
func TestSandboxDemoSeedStates(t *testing.T) {
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	get := func(name string) *appsv1.Deployment {
		d, err := sb.Client().AppsV1().Deployments(demo.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := get("payments-api"); !workload.DeploymentComplete(d) {
		t.Errorf("payments-api not complete: %+v", d.Status)
	}
	orders := get("orders-api")
	if !orders.Spec.Paused || orders.Status.UpdatedReplicas < 1 || orders.Status.UpdatedReplicas >= *orders.Spec.Replicas {
		t.Errorf("orders-api: paused=%v updated=%d of %d; want halted mid-rollout", orders.Spec.Paused, orders.Status.UpdatedReplicas, *orders.Spec.Replicas)
	}
	search := get("search-api")
	if search.Status.AvailableReplicas != 3 || search.Status.UpdatedReplicas < 1 {
		t.Errorf("search-api: available=%d updated=%d; want the 3 stable pods serving and a new release rolling", search.Status.AvailableReplicas, search.Status.UpdatedReplicas)
	}
	eventually(t, time.Minute, "a search-api canary pod in CrashLoopBackOff", func(ctx context.Context) error {
		pods, err := sb.Client().CoreV1().Pods(demo.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=search-api," + sandbox.CrashLabel})
		if err != nil {
			return err
		}
		for _, p := range pods.Items {
			for _, cs := range p.Status.ContainerStatuses {
				if cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" {
					return nil
				}
			}
		}
		return errorf("%d canary pods, none crash-looping", len(pods.Items))
	})
}
