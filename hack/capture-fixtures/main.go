// Command capture-fixtures runs rollout scenarios on a real sandbox and writes what the
// API server returns for each (Deployments, ReplicaSets, Pods) as YAML fixtures for the
// table tests of rollout.Build:
//
//	go run ./hack/capture-fixtures [-out internal/rollout/testdata]
//
// Two scenarios kwok cannot produce (OOMKilled, ImagePullBackOff) are derived from the
// crash-loop capture by editing the canary pods' container status as the kubelet would
// write it; their header says so.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/pyroll/kubectl-pyroll/internal/actions"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

func main() {
	out := flag.String("out", "internal/rollout/testdata", "where to write the fixtures")
	bin := flag.String("bin", ".cache/bin", "sandbox binaries")
	flag.Parse()
	if err := run(*out, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "capture-fixtures:", err)
		os.Exit(1)
	}
}

type capturer struct {
	ctx    context.Context
	client kubernetes.Interface
	out    string
}

func run(out, bin string) error {
	dir, err := os.MkdirTemp("", "pyroll-fixtures-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Dir: dir, BinDir: bin, Log: os.Stderr})
	if err != nil {
		return err
	}
	defer sb.Stop()
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	c := &capturer{ctx: ctx, client: sb.Client(), out: out}
	for _, s := range scenarios {
		fmt.Fprintf(os.Stderr, "scenario %s\n", s.name)
		if err := workload.EnsureNamespace(ctx, c.client, s.name); err != nil {
			return err
		}
		if err := s.run(c, s.name); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}

type scenario struct {
	name, how string
	run       func(c *capturer, ns string) error
}

func release(ns, version string, replicas int32) workload.Release {
	return workload.Release{Namespace: ns, Name: "api", Image: "ghcr.io/acme/api:" + version, Version: version,
		GitSHA: strings.Repeat(strings.ReplaceAll(version, ".", ""), 8)[:12], LockHash: "sha256:" + version, Python: "3.12.7", Replicas: replicas}
}

const crash = "Traceback (most recent call last):\n  File \"/app/api/serializers.py\", line 3, in <module>\n    import orjson\nModuleNotFoundError: No module named 'orjson'"

func (c *capturer) apply(r workload.Release) error {
	_, err := r.Apply(c.ctx, c.client)
	return err
}

func (c *capturer) complete(r workload.Release) error {
	if err := c.apply(r); err != nil {
		return err
	}
	return workload.WaitDeployment(c.ctx, c.client, r.Namespace, r.Name, 2*time.Minute, "complete", workload.DeploymentComplete)
}

func (c *capturer) wait(ns, what string, cond func(*appsv1.Deployment) bool) error {
	return workload.WaitDeployment(c.ctx, c.client, ns, "api", 2*time.Minute, what, cond)
}

func canaryReady(n int32) func(*appsv1.Deployment) bool {
	return func(d *appsv1.Deployment) bool {
		return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas >= n && d.Status.ReadyReplicas >= d.Status.Replicas
	}
}

func (c *capturer) crashLooping(ns string, n int) error {
	for start := time.Now(); time.Since(start) < 2*time.Minute; time.Sleep(200 * time.Millisecond) {
		pods, err := c.client.CoreV1().Pods(ns).List(c.ctx, metav1.ListOptions{LabelSelector: sandbox.CrashLabel})
		if err != nil {
			return err
		}
		looping := 0
		for _, p := range pods.Items {
			for _, cs := range p.Status.ContainerStatuses {
				if cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" {
					looping++
				}
			}
		}
		if looping >= n {
			return nil
		}
	}
	return fmt.Errorf("%d crash-looping pods never appeared", n)
}

var scenarios = []scenario{
	{"new-rollout", "a first release of 3 pods, ready but not yet available (minReadySeconds 300)", func(c *capturer, ns string) error {
		r := release(ns, "1.0.0", 3)
		r.MinReadySeconds = 300
		if err := c.apply(r); err != nil {
			return err
		}
		if err := c.wait(ns, "pods ready", func(d *appsv1.Deployment) bool { return d.Status.ReadyReplicas == 3 }); err != nil {
			return err
		}
		return c.capture(ns, "new-rollout", "a first release of 3 pods, ready but not yet available (minReadySeconds 300)", nil)
	}},
	{"mid-rollout", "1.0.0 complete on 4 pods, then 1.1.0 with minReadySeconds 300: 1 new pod ready, 4 old", func(c *capturer, ns string) error {
		if err := c.midRollout(ns); err != nil {
			return err
		}
		return c.capture(ns, "mid-rollout", "1.0.0 complete on 4 pods, then 1.1.0 with minReadySeconds 300: 1 new pod ready, 4 old", nil)
	}},
	{"paused", "mid-rollout, then spec.paused=true", func(c *capturer, ns string) error {
		if err := c.midRollout(ns); err != nil {
			return err
		}
		if err := workload.SetPaused(c.ctx, c.client, ns, "api", true); err != nil {
			return err
		}
		if err := c.wait(ns, "pause observed", func(d *appsv1.Deployment) bool { return d.Status.ObservedGeneration >= d.Generation }); err != nil {
			return err
		}
		return c.capture(ns, "paused", "mid-rollout, then spec.paused=true", nil)
	}},
	{"complete", "1.0.0 then 1.1.0, both complete", func(c *capturer, ns string) error {
		if err := c.complete(release(ns, "1.0.0", 3)); err != nil {
			return err
		}
		if err := c.complete(release(ns, "1.1.0", 3)); err != nil {
			return err
		}
		return c.capture(ns, "complete", "1.0.0 then 1.1.0, both complete", nil)
	}},
	{"progress-deadline-exceeded", "1.0.0 complete, then 1.1.0 crash-looping with progressDeadlineSeconds 10, after the deadline", func(c *capturer, ns string) error {
		if err := c.complete(release(ns, "1.0.0", 3)); err != nil {
			return err
		}
		r := release(ns, "1.1.0", 3)
		r.CrashMessage, r.ProgressDeadlineSeconds = crash, 10
		if err := c.apply(r); err != nil {
			return err
		}
		if err := c.wait(ns, "past the deadline", func(d *appsv1.Deployment) bool {
			for _, cond := range d.Status.Conditions {
				if cond.Type == appsv1.DeploymentProgressing && cond.Reason == "ProgressDeadlineExceeded" {
					return true
				}
			}
			return false
		}); err != nil {
			return err
		}
		return c.capture(ns, "progress-deadline-exceeded", "1.0.0 complete, then 1.1.0 crash-looping with progressDeadlineSeconds 10, after the deadline", nil)
	}},
	{"crashloop-canary", "1.0.0 complete on 3 pods, then 1.1.0 whose pods crash-loop with a ModuleNotFoundError", func(c *capturer, ns string) error {
		if err := c.crashLoopCanary(ns); err != nil {
			return err
		}
		if err := c.capture(ns, "crashloop-canary", "1.0.0 complete on 3 pods, then 1.1.0 whose pod crash-loops with a ModuleNotFoundError", nil); err != nil {
			return err
		}
		if err := c.capture(ns, "oomkilled", "crashloop-canary, with the canary pod's last termination edited to what the kubelet writes for an OOM kill (reason OOMKilled, exit 137) and a 512Mi memory limit",
			func(p *corev1.Pod) { editCanary(p, oomKilled) }); err != nil {
			return err
		}
		return c.capture(ns, "image-pull-backoff", "crashloop-canary, with the canary pod edited to what the kubelet writes when the image cannot be pulled (Pending, ImagePullBackOff)",
			func(p *corev1.Pod) { editCanary(p, imagePullBackOff) })
	}},
	{"zero-replicas", "1.0.0 complete, then scaled to 0", func(c *capturer, ns string) error {
		if err := c.complete(release(ns, "1.0.0", 2)); err != nil {
			return err
		}
		if _, err := c.client.AppsV1().Deployments(ns).Patch(c.ctx, "api", types.MergePatchType, []byte(`{"spec":{"replicas":0}}`), metav1.PatchOptions{}); err != nil {
			return err
		}
		if err := c.wait(ns, "scaled to 0", func(d *appsv1.Deployment) bool {
			return d.Status.ObservedGeneration >= d.Generation && d.Status.Replicas == 0
		}); err != nil {
			return err
		}
		return c.capture(ns, "zero-replicas", "1.0.0 complete, then scaled to 0", nil)
	}},
	{"scaled-during-rollout", "mid-rollout, then scaled from 4 to 6", func(c *capturer, ns string) error {
		if err := c.midRollout(ns); err != nil {
			return err
		}
		if _, err := c.client.AppsV1().Deployments(ns).Patch(c.ctx, "api", types.MergePatchType, []byte(`{"spec":{"replicas":6}}`), metav1.PatchOptions{}); err != nil {
			return err
		}
		if err := c.wait(ns, "scale observed", func(d *appsv1.Deployment) bool {
			return d.Status.ObservedGeneration >= d.Generation && d.Status.ReadyReplicas >= 6
		}); err != nil {
			return err
		}
		return c.capture(ns, "scaled-during-rollout", "mid-rollout, then scaled from 4 to 6", nil)
	}},
	{"ten-old-replicasets", "11 releases, each complete: the current one and 10 old ReplicaSets at 0", func(c *capturer, ns string) error {
		for i := 0; i <= 10; i++ {
			if err := c.complete(release(ns, fmt.Sprintf("1.%d.0", i), 1)); err != nil {
				return err
			}
		}
		return c.capture(ns, "ten-old-replicasets", "11 releases, each complete: the current one and 10 old ReplicaSets at 0", nil)
	}},
	{"no-revision-annotation", "mid-rollout, with the old ReplicaSet's revision annotation removed by hand", func(c *capturer, ns string) error {
		if err := c.midRollout(ns); err != nil {
			return err
		}
		return c.captureWith(ns, "no-revision-annotation", "mid-rollout, with the old ReplicaSet's revision annotation removed by hand", nil,
			func(rs *appsv1.ReplicaSet) {
				if rs.Spec.Template.Spec.Containers[0].Image == "ghcr.io/acme/api:1.0.0" {
					delete(rs.Annotations, "deployment.kubernetes.io/revision")
				}
			})
	}},
	{"rollback-in-progress", "1.0.0, 1.1.0, 1.2.0 complete; minReadySeconds 300; rolled back to 1.0.0 (which becomes revision 4), caught mid-way", func(c *capturer, ns string) error {
		for _, v := range []string{"1.0.0", "1.1.0", "1.2.0"} {
			if err := c.complete(release(ns, v, 3)); err != nil {
				return err
			}
		}
		if _, err := c.client.AppsV1().Deployments(ns).Patch(c.ctx, "api", types.MergePatchType, []byte(`{"spec":{"minReadySeconds":300}}`), metav1.PatchOptions{}); err != nil {
			return err
		}
		driver := &actions.Driver{Client: kubeapitest.FromClientset(c.client), User: "fixture"}
		if _, err := driver.Do(c.ctx, intent.Request{Action: intent.Rollback, Target: ref.Rollout{Kind: ref.Deployment, Namespace: ns, Name: "api"}, ToRevision: 1}); err != nil {
			return err
		}
		if err := c.wait(ns, "rollback started", canaryReady(1)); err != nil {
			return err
		}
		return c.capture(ns, "rollback-in-progress", "1.0.0, 1.1.0, 1.2.0 complete; minReadySeconds 300; rolled back to 1.0.0 (which becomes revision 4), caught mid-way", nil)
	}},
}

func (c *capturer) midRollout(ns string) error {
	if err := c.complete(release(ns, "1.0.0", 4)); err != nil {
		return err
	}
	r := release(ns, "1.1.0", 4)
	r.MinReadySeconds = 300
	if err := c.apply(r); err != nil {
		return err
	}
	return c.wait(ns, "1 new pod ready", canaryReady(1))
}

func (c *capturer) crashLoopCanary(ns string) error {
	if err := c.complete(release(ns, "1.0.0", 3)); err != nil {
		return err
	}
	r := release(ns, "1.1.0", 3)
	r.CrashMessage = crash
	if err := c.apply(r); err != nil {
		return err
	}
	return c.crashLooping(ns, 1)
}

func oomKilled(cs *corev1.ContainerStatus) {
	cs.LastTerminationState.Terminated.Reason = "OOMKilled"
	cs.LastTerminationState.Terminated.ExitCode = 137
	cs.LastTerminationState.Terminated.Message = ""
}

func imagePullBackOff(cs *corev1.ContainerStatus) {
	cs.LastTerminationState = corev1.ContainerState{}
	cs.RestartCount = 0
	cs.ImageID = ""
	cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff",
		Message: `Back-off pulling image "ghcr.io/acme/api:1.1.0"`}}
}

func editCanary(p *corev1.Pod, edit func(*corev1.ContainerStatus)) {
	if p.Labels[sandbox.CrashLabel] != "true" {
		return
	}
	for i := range p.Status.ContainerStatuses {
		edit(&p.Status.ContainerStatuses[i])
	}
	if p.Status.ContainerStatuses[0].State.Waiting.Reason == "ImagePullBackOff" {
		p.Status.Phase = corev1.PodPending
	} else {
		p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")}
	}
}

func (c *capturer) capture(ns, file, how string, editPod func(*corev1.Pod)) error {
	return c.captureWith(ns, file, how, editPod, nil)
}

// captureWith writes the namespace's Deployments, ReplicaSets and Pods as a v1 List.
func (c *capturer) captureWith(ns, file, how string, editPod func(*corev1.Pod), editRS func(*appsv1.ReplicaSet)) error {
	now := time.Now().UTC().Truncate(time.Second)
	deps, err := c.client.AppsV1().Deployments(ns).List(c.ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	rsList, err := c.client.AppsV1().ReplicaSets(ns).List(c.ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	pods, err := c.client.CoreV1().Pods(ns).List(c.ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var items []runtime.Object
	for i := range deps.Items {
		d := &deps.Items[i]
		d.ManagedFields, d.APIVersion, d.Kind = nil, "apps/v1", "Deployment"
		items = append(items, d)
	}
	for i := range rsList.Items {
		rs := &rsList.Items[i]
		rs.ManagedFields, rs.APIVersion, rs.Kind = nil, "apps/v1", "ReplicaSet"
		if editRS != nil {
			editRS(rs)
		}
		items = append(items, rs)
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		p.ManagedFields, p.APIVersion, p.Kind = nil, "v1", "Pod"
		if editPod != nil {
			editPod(p)
		}
		items = append(items, p)
	}
	data, err := yaml.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	if err != nil {
		return err
	}
	header := fmt.Sprintf("# captured: %s\n# scenario: %s\n# made by: go run ./hack/capture-fixtures (a real kube-apiserver, controllers and kwok)\n", now.Format(time.RFC3339), how)
	return os.WriteFile(filepath.Join(c.out, file+".yaml"), append([]byte(header), data...), 0o644)
}
