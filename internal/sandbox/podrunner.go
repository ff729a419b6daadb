package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/pyroll/kubectl-pyroll/assets"
)

// podRunner stands in for a kubelet's container runtime: for every Running sample pod it
// runs the sample service, and it keeps Prometheus' file_sd targets in sync. It writes each
// sample pod's real output to the files a kwok Logs object names for the pod, so
// `kubectl logs` shows it (see containerlog.go). A crash-looping pod whose build really
// fails (ImportEnv) is run once: that output stands for each of its restarts.
type podRunner struct {
	loopback    loopbackBlock
	appDir      string
	targetsPath string
	logDir      string
	log         io.Writer
	dynamic     dynamic.Interface
	stopCh      chan struct{}
	ctx         context.Context
	cancel      context.CancelFunc
	wg          sync.WaitGroup // background work: Logs objects, stopping and reaping processes

	mu      sync.Mutex
	pods    map[types.UID]*podState
	stopped bool
}

// podState is what the runner keeps for one sample pod.
type podState struct {
	serving *runningPod // the service, while the pod serves
	// crashHandled: the crash-looping pod's log is set up (its one run started, or, for a
	// crash that is only simulated, empty files written).
	crashHandled bool
	crashRun     *process
}

type runningPod struct {
	proc   *process
	target scrapeTarget
}

type scrapeTarget struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

func startPodRunner(client kubernetes.Interface, dyn dynamic.Interface, block loopbackBlock, appDir, targetsPath, logDir string, log io.Writer) (*podRunner, error) {
	if err := os.CopyFS(appDir, assets.SampleService()); err != nil && !os.IsExist(err) {
		return nil, fmt.Errorf("unpack sample service: %w", err)
	}
	r := &podRunner{
		loopback: block, appDir: appDir, targetsPath: targetsPath, logDir: logDir, log: log, dynamic: dyn,
		stopCh: make(chan struct{}), pods: map[types.UID]*podState{},
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = RunLabel + "=" + RunSampleService }))
	podInformer := factory.Core().V1().Pods().Informer()
	_, err := podInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { r.sync(obj) },
		UpdateFunc: func(_, obj any) { r.sync(obj) },
		DeleteFunc: func(obj any) { r.forget(obj) },
	})
	if err != nil {
		r.cancel()
		return nil, err
	}
	factory.Start(r.stopCh)
	return r, nil
}

func asPod(obj any) *corev1.Pod {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, _ := obj.(*corev1.Pod)
	return pod
}

func (r *podRunner) sync(obj any) {
	pod := asPod(obj)
	if pod == nil || len(pod.Spec.Containers) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	st, known := r.pods[pod.UID]
	if !known {
		if pod.DeletionTimestamp != nil {
			return
		}
		st = &podState{}
		r.pods[pod.UID] = st
		r.createLogsObject(pod)
	}
	shouldServe := podServes(pod)
	switch {
	case shouldServe && st.serving == nil:
		rp, err := r.serve(pod)
		if err != nil {
			fmt.Fprintf(r.log, "sandbox: pod runner: %s/%s: %v\n", pod.Namespace, pod.Name, err)
			return
		}
		st.serving = rp
		r.writeTargets()
	case !shouldServe && st.serving != nil:
		r.stopInBackground(st.serving.proc)
		st.serving = nil
		r.writeTargets()
	}
	if !st.crashHandled && pod.Labels[CrashLabel] == "true" && pod.Status.PodIP != "" && pod.DeletionTimestamp == nil {
		st.crashHandled = true
		if err := r.runCrash(pod, st); err != nil {
			fmt.Fprintf(r.log, "sandbox: pod runner: %s/%s: %v\n", pod.Namespace, pod.Name, err)
		}
	}
}

// forget stops whatever runs for a deleted pod. Its log files stay, for post-mortems.
func (r *podRunner) forget(obj any) {
	pod := asPod(obj)
	if pod == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st, ok := r.pods[pod.UID]
	if !ok || r.stopped {
		return
	}
	delete(r.pods, pod.UID)
	if st.crashRun != nil && !st.crashRun.exited() {
		r.stopInBackground(st.crashRun)
	}
	if st.serving != nil {
		r.stopInBackground(st.serving.proc)
		r.writeTargets()
	}
}

// stopInBackground stops p without holding up the informer; the caller holds r.mu.
func (r *podRunner) stopInBackground(p *process) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		p.stop(3 * time.Second)
	}()
}

// podServes: the pod is Running with an IP, not being deleted, and its containers run
// (a crash-looping container does not serve).
func podServes(pod *corev1.Pod) bool {
	if pod.DeletionTimestamp != nil || pod.Status.Phase != corev1.PodRunning || pod.Status.PodIP == "" {
		return false
	}
	if len(pod.Status.ContainerStatuses) == 0 {
		return false
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.State.Running == nil {
			return false
		}
	}
	return true
}

// serve starts the sample service for a pod that serves.
func (r *podRunner) serve(pod *corev1.Pod) (*runningPod, error) {
	addr, err := r.servingAddress(pod)
	if err != nil {
		return nil, err
	}
	proc, err := r.startService(pod, addr)
	if err != nil {
		return nil, err
	}
	return &runningPod{proc: proc, target: scrapeTarget{
		Targets: []string{addr},
		Labels: map[string]string{
			"namespace":         pod.Namespace,
			"pod":               pod.Name,
			"pod_template_hash": podTemplateHash(pod),
		},
	}}, nil
}

// podTemplateHash is the hash of the pod's template, which says which revision it runs: a
// Deployment's ReplicaSets label their pods pod-template-hash, an Argo Rollout's
// rollouts-pod-template-hash (and not the other). The Prometheus series carry it as
// pod_template_hash either way, so a revision's metrics are found the same way for both.
func podTemplateHash(pod *corev1.Pod) string {
	if h := pod.Labels["pod-template-hash"]; h != "" {
		return h
	}
	return pod.Labels["rollouts-pod-template-hash"]
}

// runCrash sets up the log of a crash-looping pod; the caller holds r.mu. A build that
// really fails (ImportEnv names a module Debian's python3 lacks) is run once, for real, and
// its output kept as both the current and the previous container's log: every restart would
// print the same, and running it again every back-off would only burn CPU. A crash that is
// only simulated (a CrashMessage alone) ran nothing, so printed nothing: empty logs.
func (r *podRunner) runCrash(pod *corev1.Pod, st *podState) error {
	c := pod.Spec.Containers[0]
	current, previous := containerLogPaths(r.logDir, pod.Namespace, pod.Name, c.Name)
	if envValue(c, ImportEnv) == "" {
		for _, path := range []string{current, previous} {
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			f.Close()
		}
		return nil
	}
	addr, err := r.servingAddress(pod)
	if err != nil {
		return err
	}
	proc, err := r.startService(pod, addr)
	if err != nil {
		return err
	}
	st.crashRun = proc
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		<-proc.done
		data, err := os.ReadFile(current)
		if err == nil {
			err = writeFileAtomic(previous, data)
		}
		if err != nil {
			fmt.Fprintf(r.log, "sandbox: pod runner: %s/%s: previous log: %v\n", pod.Namespace, pod.Name, err)
		}
	}()
	return nil
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom == nil {
			return e.Value
		}
	}
	return ""
}

// servingAddress is the loopback host:port where the pod's first container serves.
func (r *podRunner) servingAddress(pod *corev1.Pod) (string, error) {
	ip, err := r.loopback.servingIP(pod.Status.PodIP)
	if err != nil {
		return "", err
	}
	c := pod.Spec.Containers[0]
	port := 8080
	if len(c.Ports) > 0 {
		port = int(c.Ports[0].ContainerPort)
	}
	return net.JoinHostPort(ip, strconv.Itoa(port)), nil
}

// startService starts the sample service, as the pod's first container, on addr, its output
// going to the container's log; what a container before it printed becomes the previous log.
func (r *podRunner) startService(pod *corev1.Pod, addr string) (*process, error) {
	c := pod.Spec.Containers[0]
	env := []string{"PATH=/usr/bin:/bin", "PYTHONUNBUFFERED=1", "PYROLL_SELF_URL=http://" + addr}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env = append(env, e.Name+"="+e.Value)
		}
	}
	current, previous := containerLogPaths(r.logDir, pod.Namespace, pod.Name, c.Name)
	if fi, err := os.Stat(current); err == nil && fi.Size() > 0 {
		if err := os.Rename(current, previous); err != nil {
			return nil, fmt.Errorf("keep the previous container's log: %w", err)
		}
	}
	clog, err := openContainerLog(current)
	if err != nil {
		return nil, fmt.Errorf("container log: %w", err)
	}
	return spawn(pod.Namespace+"_"+pod.Name, gunicornBin, []string{
		"--bind", addr, "--workers", "1", "--threads", "4", "--chdir", r.appDir,
		"--graceful-timeout", "2", "--log-level", "info", "app:app",
	}, env, clog.stream("stdout"), clog.stream("stderr"), current, clog.Close)
}

// createLogsObject creates, in the background, the kwok Logs object that serves the pod's
// container logs, retrying while the API server is unreachable; the caller holds r.mu.
func (r *podRunner) createLogsObject(pod *corev1.Pod) {
	if r.dynamic == nil {
		return
	}
	obj := kwokLogsObject(pod, r.logDir)
	ns, name, uid := pod.Namespace, pod.Name, pod.UID
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		delay := 200 * time.Millisecond
		for {
			_, err := r.dynamic.Resource(kwokLogsResource).Namespace(ns).Create(r.ctx, obj, metav1.CreateOptions{FieldManager: "pyroll-sandbox"})
			if err == nil || apierrors.IsAlreadyExists(err) || r.ctx.Err() != nil {
				return
			}
			// Forbidden: the namespace is being deleted; NotFound: so is the pod.
			if apierrors.IsForbidden(err) || apierrors.IsNotFound(err) || !r.tracks(uid) {
				return
			}
			if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
				fmt.Fprintf(r.log, "sandbox: pod runner: %s/%s: kwok Logs object: %v\n", ns, name, err)
				return
			}
			select {
			case <-r.ctx.Done():
				return
			case <-time.After(delay):
			}
			delay = min(2*delay, 5*time.Second)
		}
	}()
}

func (r *podRunner) tracks(uid types.UID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.pods[uid]
	return ok
}

// writeTargets rewrites Prometheus' file_sd targets; the caller holds r.mu.
func (r *podRunner) writeTargets() {
	targets := make([]scrapeTarget, 0, len(r.pods))
	for _, st := range r.pods {
		if st.serving != nil {
			targets = append(targets, st.serving.target)
		}
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].Targets[0] < targets[j].Targets[0] })
	data, _ := json.MarshalIndent(targets, "", "  ")
	if err := writeFileAtomic(r.targetsPath, data); err != nil {
		fmt.Fprintf(r.log, "sandbox: pod runner: write %s: %v\n", r.targetsPath, err)
	}
}

func (r *podRunner) stop() {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.stopped = true
	r.cancel()
	close(r.stopCh)
	var procs []*process
	for uid, st := range r.pods {
		if st.serving != nil {
			procs = append(procs, st.serving.proc)
		}
		if st.crashRun != nil && !st.crashRun.exited() {
			procs = append(procs, st.crashRun)
		}
		delete(r.pods, uid)
	}
	r.mu.Unlock()
	for _, p := range procs {
		r.stopInBackground(p)
	}
	r.wg.Wait()
}
