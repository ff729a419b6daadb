//go:build e2e

// The sandbox's own tests of Argo Rollouts (they test the test bed, not kubectl-pyroll):
// the real rollouts-controller runs the demo's checkout-api canary on kwok pods, the pod
// runner serves those pods and Prometheus scrapes them under the canary's hash, and Argo's
// own analysis, asking that Prometheus, aborts a release whose canary errs. And a sandbox
// can be had without Argo at all. Named TestSandbox..., as in sandbox_cluster_test.go.

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/demo"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/sandboxtest"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// rolloutPods counts the serving (Running, Ready, not terminating) pods of a Rollout by
// pod-template hash.
func rolloutPods(ctx context.Context, sb *sandbox.Sandbox, ns, app string) (map[string]int, error) {
	pods, err := sb.Client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		return nil, err
	}
	serving := map[string]int{}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				serving[p.Labels[workload.RolloutPodHashLabel]]++
			}
		}
	}
	return serving, nil
}

// The seeded demo's checkout-api sits at its indefinite pause (step index 1) with 1 of its
// 5 pods on release 4.2.0, and the background analysis passes on real measurements of the
// canary's series.
func TestSandboxArgoDemoCheckoutPausedAtStep1(t *testing.T) {
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	dyn := sb.Dynamic()
	ns, name := demo.Namespace, demo.CheckoutV2.Name
	st, err := workload.WaitRollout(ctx, dyn, ns, name, time.Minute, "paused at step 1",
		func(s workload.RolloutState) bool { return s.PausedAtStep(demo.CheckoutPauseStep) })
	if err != nil {
		t.Fatal(err)
	}
	if st.Status.Abort || len(st.Status.PauseConditions) != 1 || st.Status.PauseConditions[0].Reason != "CanaryPauseStep" {
		t.Errorf("checkout-api: %s, pause conditions %+v; want held by its pause step, not aborted", st, st.Status.PauseConditions)
	}
	canary, stable := st.Status.CurrentPodHash, st.Status.StableRS
	if canary == "" || stable == "" || canary == stable {
		t.Fatalf("checkout-api: canary hash %q, stable %q; want two revisions", canary, stable)
	}
	// The canary's ReplicaSet runs 4.2.0 and labels its pods with Argo's hash label only.
	rs, err := sb.Client().AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{LabelSelector: workload.RolloutPodHashLabel + "=" + canary})
	if err != nil || len(rs.Items) != 1 {
		t.Fatalf("canary ReplicaSets %v, %v; want one", rs, err)
	}
	if img := rs.Items[0].Spec.Template.Spec.Containers[0].Image; img != demo.CheckoutV2.Image {
		t.Errorf("canary ReplicaSet runs %s; want %s", img, demo.CheckoutV2.Image)
	}
	eventually(t, time.Minute, "1 canary pod and 4 stable pods serving", func(ctx context.Context) error {
		serving, err := rolloutPods(ctx, sb, ns, name)
		if err != nil {
			return err
		}
		if serving[canary] != 1 || serving[stable] != 4 || len(serving) != 2 {
			return errorf("serving pods by hash %v; want %s: 1, %s: 4", serving, canary, stable)
		}
		return nil
	})
	// kwok's stages treat Argo's pods as any sample pod: the canary reports its running digest.
	pods, err := sb.Client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: workload.RolloutPodHashLabel + "=" + canary})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if cs := p.Status.ContainerStatuses; len(cs) != 1 || !strings.HasSuffix(cs[0].ImageID, demo.CheckoutV2.ImageDigest()) {
			t.Errorf("canary pod %s: container statuses %+v; want imageID ...@%s", p.Name, cs, demo.CheckoutV2.ImageDigest())
		}
	}

	// Prometheus has the canary's own series, labelled with Argo's hash by the pod runner.
	client, err := promapi.NewClient(promapi.Config{Address: sb.PrometheusURL})
	if err != nil {
		t.Fatal(err)
	}
	api := promv1.NewAPI(client)
	eventually(t, 2*time.Minute, "the canary's request rate in Prometheus", func(ctx context.Context) error {
		value, _, _, err := api.Query(ctx, fmt.Sprintf(`sum(rate(http_requests_total{namespace=%q,pod_template_hash=%q}[1m]))`, ns, canary), time.Now())
		if err != nil {
			return err
		}
		if v, ok := value.(model.Vector); !ok || len(v) != 1 || v[0].Value <= 0 {
			return errorf("canary request rate: %v", value)
		}
		return nil
	})

	// The analysis runs on the canary and passes, on measured values (not only on the empty
	// result of the canary's first seconds).
	analysis := st.Status.Canary.CurrentBackgroundAnalysisRunStatus
	if analysis == nil || analysis.Name == "" {
		t.Fatalf("checkout-api: %s; want a background AnalysisRun", st)
	}
	run, err := workload.WaitAnalysisRun(ctx, dyn, ns, analysis.Name, 2*time.Minute, "with a measured success",
		func(run workload.AnalysisRun) bool {
			return len(run.Status.MetricResults) == 1 && len(run.Status.MetricResults[0].MeasuredValues("Successful")) > 0
		})
	if err != nil {
		t.Fatal(err)
	}
	if run.Labels[workload.RolloutPodHashLabel] != canary {
		t.Errorf("analysis run %s is for hash %q; want the canary's %q", run.Name, run.Labels[workload.RolloutPodHashLabel], canary)
	}
	m := run.Status.MetricResults[0]
	// An errored measurement (Prometheus slow to answer on a loaded machine) is not a
	// judgement: argo tolerates consecutiveErrorLimit (4) of them; only failures count.
	if run.Status.Phase != "Running" || m.Failed > 0 || m.Inconclusive > 0 {
		t.Errorf("analysis run %s of the good release: phase %q, error-rate %+v; want Running without a failed or inconclusive measurement", run.Name, run.Status.Phase, m)
	}
	for _, rate := range m.MeasuredValues("Successful") {
		if rate >= demo.MaxCanaryErrorRate {
			t.Errorf("successful measurement of %v, over the %v the analysis allows", rate, demo.MaxCanaryErrorRate)
		}
	}
}

// A release whose canary serves 5% errors is aborted by its AnalysisRun, on the error rate
// Prometheus measured, and the stable release serves on all 5 pods.
func TestSandboxArgoBadReleaseAbortedByAnalysis(t *testing.T) {
	sb := sandboxtest.Get(t)
	ctx := context.Background()
	dyn := sb.Dynamic()
	ns := newNamespace(t)
	name := demo.CheckoutV1.Name
	if err := demo.InstallCheckoutAnalysis(ctx, sb, ns); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.ApplyCheckout(ctx, dyn, demo.CheckoutV1.In(ns)); err != nil {
		t.Fatal(err)
	}
	stable, err := workload.WaitRollout(ctx, dyn, ns, name, 2*time.Minute, "healthy", workload.RolloutState.Healthy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.ApplyCheckout(ctx, dyn, demo.CheckoutBad.In(ns)); err != nil {
		t.Fatal(err)
	}
	aborted, err := workload.WaitRollout(ctx, dyn, ns, name, 3*time.Minute, "aborted", workload.RolloutState.Aborted)
	if err != nil {
		t.Fatal(err)
	}
	bad := aborted.Status.CurrentPodHash
	if bad == "" || bad == stable.Status.StableRS || aborted.Status.StableRS != stable.Status.StableRS {
		t.Fatalf("aborted: %s; want the bad canary's hash beside the unchanged stable %s", aborted, stable.Status.StableRS)
	}
	if !strings.Contains(aborted.Status.Message, "error-rate") {
		t.Errorf("abort message %q; want it to name the failed error-rate metric", aborted.Status.Message)
	}

	runs, err := dyn.Resource(workload.AnalysisRunsResource).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: workload.RolloutPodHashLabel + "=" + bad})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs.Items) != 1 {
		t.Fatalf("%d analysis runs for the bad canary %s; want 1", len(runs.Items), bad)
	}
	run, err := workload.ReadAnalysisRun(&runs.Items[0])
	if err != nil {
		t.Fatal(err)
	}
	if run.Status.Phase != "Failed" || len(run.Status.MetricResults) != 1 || run.Status.MetricResults[0].Failed < 2 {
		t.Fatalf("analysis run %s: %+v; want Failed after 2 failed measurements (failureLimit 1)", run.Name, run.Status)
	}
	// 5% configured. Measured over the canary's first seconds it reads lower (a 5xx series
	// that appears mid-window loses its first increment to rate()), never near 0 or 1.
	measured := run.Status.MetricResults[0].MeasuredValues("Failed")
	if len(measured) < 2 {
		t.Errorf("failed measurements %+v; want 2 with values", run.Status.MetricResults[0].Measurements)
	}
	for _, rate := range measured {
		if rate <= demo.MaxCanaryErrorRate || rate > 4*demo.CheckoutBad.ErrorRate {
			t.Errorf("failed measurement of %v; want over %v and about %v", rate, demo.MaxCanaryErrorRate, demo.CheckoutBad.ErrorRate)
		}
	}
	t.Logf("analysis run %s failed on measured error rates %v", run.Name, measured)

	// Argo took the canary away: the stable release serves on all 5 pods again.
	eventually(t, 2*time.Minute, "the stable release alone, on 5 pods", func(ctx context.Context) error {
		serving, err := rolloutPods(ctx, sb, ns, name)
		if err != nil {
			return err
		}
		if serving[stable.Status.StableRS] != 5 || len(serving) != 1 {
			return errorf("serving pods by hash %v; want %s: 5", serving, stable.Status.StableRS)
		}
		return nil
	})
}

// A sandbox started with NoArgo is a cluster that never had Argo Rollouts: argoproj.io is
// not served, no controller runs, and it needs no rollouts-controller binary.
func TestSandboxWithoutArgoServesNoArgoAPI(t *testing.T) {
	bin := t.TempDir()
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"} {
		if err := symlink(sandboxtest.ToolsBin(), bin, b); err != nil {
			t.Fatal(err)
		}
	}
	sb := sandboxtest.Start(t, sandbox.Options{BinDir: bin, Nodes: 1, NoArgo: true})
	if sb.Argo() {
		t.Fatal("Argo() true with NoArgo")
	}
	groups, err := sb.Client().Discovery().ServerGroups()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups.Groups {
		if g.Name == "argoproj.io" {
			t.Fatalf("argoproj.io served by a sandbox without Argo: %+v", g)
		}
	}
	for _, p := range processesMentioning(sb.Kubeconfig) {
		if strings.Contains(p, "rollouts-controller") {
			t.Fatalf("rollouts-controller runs in a sandbox without Argo: %s", p)
		}
	}
}

func symlink(fromDir, toDir, name string) error {
	return os.Symlink(filepath.Join(fromDir, name), filepath.Join(toDir, name))
}
