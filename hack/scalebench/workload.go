package main

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// scaleWorkload is the scaled cluster: namespaces bench-0..N-1, each with Deployments
// api-<ns>-<k> (names unique across namespaces, so a filter finds exactly one).
type scaleWorkload struct {
	namespaces, perNamespace int
	replicas                 int32
}

func (w scaleWorkload) deployments() int { return w.namespaces * w.perNamespace }
func (w scaleWorkload) pods() int        { return w.deployments() * int(w.replicas) }

func (w scaleWorkload) namespace(n int) string { return fmt.Sprintf("bench-%d", n) }
func (w scaleWorkload) name(n, k int) string   { return fmt.Sprintf("api-%d-%02d", n, k) }

// deployment is a plain Deployment of a tiny container: no sandbox run label, so no Python
// process starts; kwok makes its pods Running and Ready.
func (w scaleWorkload) deployment(n, k int) *appsv1.Deployment {
	name := w.name(n, k)
	labels := map[string]string{"app": name}
	replicas := w.replicas
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.namespace(n), Labels: map[string]string{"app": name, "app.kubernetes.io/part-of": "pyroll-scalebench"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{
					"org.opencontainers.image.revision": fmt.Sprintf("%07x", 0xb00000+n*1000+k),
					"org.opencontainers.image.version":  "1.0.0",
				}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name:  "app",
					Image: "registry.example/bench/" + name + ":1.0.0",
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU:    resource.MustParse("10m"),
						corev1.ResourceMemory: resource.MustParse("16Mi"),
					}},
				}}},
			},
		},
	}
}

// wavePods is how many pods are started at a time: the whole sandbox at 10,000 pods, five
// waves at 50,000. All at once, on two busy cores, the API server's watchers (scheduler,
// kwok, controller-manager) fell behind, the API server closed their watches, and each
// started again from a full list of the pods so far: the 50,000 never got Ready.
const wavePods = 10000

// createReady makes the namespaces and the Deployments, a wave of about wavePods pods at a
// time, each wave all Ready (every Deployment complete) before the next; logging progress
// every 15 s. timeout bounds the whole.
func (w scaleWorkload) createReady(ctx context.Context, client kubernetes.Interface, timeout time.Duration, logf func(string, ...any)) error {
	for n := 0; n < w.namespaces; n++ {
		if err := workload.EnsureNamespace(ctx, client, w.namespace(n)); err != nil {
			return err
		}
	}
	perWave := max(1, wavePods/(int(w.replicas)*w.namespaces)) // Deployments per namespace in a wave
	began := time.Now()
	for from := 0; from < w.perNamespace; from += perWave {
		to := min(from+perWave, w.perNamespace)
		for k := from; k < to; k++ {
			for n := 0; n < w.namespaces; n++ {
				if _, err := client.AppsV1().Deployments(w.namespace(n)).Create(ctx, w.deployment(n, k), metav1.CreateOptions{}); err != nil {
					return fmt.Errorf("create deployment %s/%s: %w", w.namespace(n), w.name(n, k), err)
				}
			}
		}
		if err := w.waitReady(ctx, client, to, timeout-time.Since(began), began, logf); err != nil {
			return err
		}
	}
	return nil
}

// waitReady waits until the first upTo Deployments of each namespace are complete (all pods
// Ready and available), logging progress every 15 s. The Deployments are read from the API
// server's watch cache (resourceVersion 0), not from etcd.
func (w scaleWorkload) waitReady(ctx context.Context, client kubernetes.Interface, upTo int, timeout time.Duration, began time.Time, logf func(string, ...any)) error {
	lastLog := time.Now()
	want := upTo * w.namespaces
	var available, complete int
	err := wait.PollUntilContextTimeout(ctx, 3*time.Second, max(timeout, time.Second), true, func(ctx context.Context) (bool, error) {
		available, complete = 0, 0
		for n := 0; n < w.namespaces; n++ {
			list, err := client.AppsV1().Deployments(w.namespace(n)).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
			if err != nil {
				return false, nil
			}
			for i := range list.Items {
				d := &list.Items[i]
				available += int(d.Status.AvailableReplicas)
				if workload.DeploymentComplete(d) {
					complete++
				}
			}
		}
		if time.Since(lastLog) >= 15*time.Second {
			lastLog = time.Now()
			logf("%d/%d pods available, %d/%d Deployments complete (%s)", available, w.pods(), complete, w.deployments(), time.Since(began).Round(time.Second))
		}
		return complete >= want, nil
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("after %s only %d/%d pods available, %d/%d Deployments complete: raise -ready-timeout or lower -pods", time.Since(began).Round(time.Second), available, w.pods(), complete, w.deployments())
	}
	return err
}

// holdProgressing starts a new revision of one Deployment that stays Progressing for an
// hour (its one surge pod becomes Ready but counts as available only after
// minReadySeconds), as a slow rollout would: `status --watch` keeps watching while a
// rollout is in progress.
func holdProgressing(ctx context.Context, client kubernetes.Interface, ns, name string) error {
	patch := `{"spec":{"minReadySeconds":3600,"progressDeadlineSeconds":7200,` +
		`"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}},` +
		`"template":{"metadata":{"annotations":{"org.opencontainers.image.version":"1.1.0"}}}}}`
	if _, err := client.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("start a slow rollout of %s/%s: %w", ns, name, err)
	}
	return workload.WaitDeployment(ctx, client, ns, name, 3*time.Minute, "rolling out (1 new pod Ready)", func(d *appsv1.Deployment) bool {
		return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas >= 1 && d.Status.ReadyReplicas > *d.Spec.Replicas
	})
}

// podFlipper turns one pod's readiness off and on through the API (its status, as a kubelet
// would write it): one pod event per change, which the console shows in the pod bar.
type podFlipper struct {
	client kubernetes.Interface
	pod    *corev1.Pod
	// seen is the newest resourceVersion this flipper read or wrote: where a watch of the
	// pod starts (the pod's own version may be older than the watch cache's history: 410).
	seen string
}

func newPodFlipper(ctx context.Context, client kubernetes.Interface, ns, app string) (*podFlipper, error) {
	pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		return nil, err
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && podReady(p) {
			return &podFlipper{client: client, pod: p.DeepCopy(), seen: pods.ResourceVersion}, nil
		}
	}
	return nil, fmt.Errorf("no Ready pod of %s/%s", ns, app)
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// set writes the pod's readiness; it returns when the API server answered, with the time
// just before the request was sent and the pod's new resourceVersion.
func (f *podFlipper) set(ctx context.Context, ready bool) (time.Time, string, error) {
	p := f.pod.DeepCopy()
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	now := metav1.Now()
	for i := range p.Status.Conditions {
		c := &p.Status.Conditions[i]
		if c.Type == corev1.PodReady || c.Type == corev1.ContainersReady {
			c.Status, c.LastTransitionTime = status, now
		}
	}
	for i := range p.Status.ContainerStatuses {
		p.Status.ContainerStatuses[i].Ready = ready
	}
	at := time.Now()
	updated, err := f.client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		// Our copy is stale (listed from the watch cache, or written by someone else): read
		// the pod again and write once more.
		current, gerr := f.client.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
		if gerr != nil {
			return at, "", fmt.Errorf("set pod %s/%s ready=%t: %w", p.Namespace, p.Name, ready, gerr)
		}
		f.pod, f.seen = current, current.ResourceVersion
		return f.set(ctx, ready)
	}
	if err != nil {
		return at, "", fmt.Errorf("set pod %s/%s ready=%t: %w", p.Namespace, p.Name, ready, err)
	}
	f.pod, f.seen = updated, updated.ResourceVersion
	return at, updated.ResourceVersion, nil
}

// eventClock watches the flipped pod from a client of its own and notes when each version of
// it arrives: how long the API server takes to deliver a change to any watcher.
type eventClock struct {
	pod     string // the pod watched (by name)
	mu      sync.Mutex
	arrived map[podVersion]time.Time // the pod's name and resourceVersion -> arrival
	ended   error                    // why the watch ended early, if it did
	stop    func()
}

func (f *podFlipper) watchEvents(ctx context.Context) (*eventClock, error) {
	w, err := f.client.CoreV1().Pods(f.pod.Namespace).Watch(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("metadata.name", f.pod.Name).String(), ResourceVersion: f.seen,
	})
	if err != nil {
		return nil, err
	}
	c := &eventClock{pod: f.pod.Name, arrived: map[podVersion]time.Time{}, stop: w.Stop}
	go func() {
		for ev := range w.ResultChan() {
			now := time.Now()
			c.mu.Lock()
			switch p := ev.Object.(type) {
			case *corev1.Pod:
				c.arrived[podVersion{pod: p.Name, rv: p.ResourceVersion}] = now
			case *metav1.Status:
				c.ended = fmt.Errorf("the watch of pod %s ended: %s", f.pod.Name, p.Message)
			}
			c.mu.Unlock()
		}
		c.mu.Lock()
		if c.ended == nil && ctx.Err() == nil {
			c.ended = fmt.Errorf("the watch of pod %s ended", f.pod.Name)
		}
		c.mu.Unlock()
	}()
	return c, nil
}

// err says why the clock stopped reading arrivals early, if it did.
func (c *eventClock) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

// snapshot is every version that arrived so far, with when.
func (c *eventClock) snapshot() map[podVersion]time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.arrived)
}

// at is when the pod's version rv arrived (zero if it did not within a few seconds, or the
// watch ended).
func (c *eventClock) at(rv string) time.Time {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		t, ok := c.arrived[podVersion{pod: c.pod, rv: rv}]
		ended := c.ended != nil
		c.mu.Unlock()
		if ok {
			return t
		}
		if ended {
			return time.Time{}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Time{}
}
