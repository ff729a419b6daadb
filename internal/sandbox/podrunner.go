package sandbox

import (
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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/pyroll/kubectl-pyroll/assets"
)

// RunLabel marks the pods whose containers the pod runner really runs: the sample Python
// service, under Debian's gunicorn, on the pod's loopback serving address.
const RunLabel = "sandbox.pyroll.dev/run"

// RunSampleService is RunLabel's value for the sample service.
const RunSampleService = "sample-service"

// podRunner stands in for a kubelet's container runtime: for every Running sample pod it
// runs the sample service, and it keeps Prometheus' file_sd targets in sync.
type podRunner struct {
	loopback    loopbackBlock
	appDir      string
	targetsPath string
	logDir      string
	log         io.Writer
	stopCh      chan struct{}

	mu      sync.Mutex
	running map[types.UID]*runningPod
	stopped bool
}

type runningPod struct {
	proc   *process
	target scrapeTarget
}

type scrapeTarget struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

func startPodRunner(client kubernetes.Interface, block loopbackBlock, appDir, targetsPath, logDir string, log io.Writer) (*podRunner, error) {
	if err := os.CopyFS(appDir, assets.SampleService()); err != nil && !os.IsExist(err) {
		return nil, fmt.Errorf("unpack sample service: %w", err)
	}
	r := &podRunner{
		loopback: block, appDir: appDir, targetsPath: targetsPath, logDir: logDir, log: log,
		stopCh: make(chan struct{}), running: map[types.UID]*runningPod{},
	}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = RunLabel + "=" + RunSampleService }))
	podInformer := factory.Core().V1().Pods().Informer()
	_, err := podInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { r.sync(obj) },
		UpdateFunc: func(_, obj any) { r.sync(obj) },
		DeleteFunc: func(obj any) { r.sync(obj) },
	})
	if err != nil {
		return nil, err
	}
	factory.Start(r.stopCh)
	return r, nil
}

func (r *podRunner) sync(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	current, isRunning := r.running[pod.UID]
	shouldRun := podServes(pod)
	switch {
	case shouldRun && !isRunning:
		rp, err := r.run(pod)
		if err != nil {
			fmt.Fprintf(r.log, "sandbox: pod runner: %s/%s: %v\n", pod.Namespace, pod.Name, err)
			return
		}
		r.running[pod.UID] = rp
	case !shouldRun && isRunning:
		delete(r.running, pod.UID)
		go current.proc.stop(3 * time.Second)
	default:
		return
	}
	r.writeTargets()
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

func (r *podRunner) run(pod *corev1.Pod) (*runningPod, error) {
	ip, err := r.loopback.servingIP(pod.Status.PodIP)
	if err != nil {
		return nil, err
	}
	c := pod.Spec.Containers[0]
	port := 8080
	if len(c.Ports) > 0 {
		port = int(c.Ports[0].ContainerPort)
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	env := []string{"PATH=/usr/bin:/bin", "PYTHONUNBUFFERED=1", "PYROLL_SELF_URL=http://" + addr}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env = append(env, e.Name+"="+e.Value)
		}
	}
	proc, err := startProcess(pod.Namespace+"_"+pod.Name, gunicornBin, []string{
		"--bind", addr, "--workers", "1", "--threads", "4", "--chdir", r.appDir,
		"--graceful-timeout", "2", "--log-level", "warning", "app:app",
	}, env, r.logDir)
	if err != nil {
		return nil, err
	}
	return &runningPod{proc: proc, target: scrapeTarget{
		Targets: []string{addr},
		Labels: map[string]string{
			"namespace":         pod.Namespace,
			"pod":               pod.Name,
			"pod_template_hash": pod.Labels["pod-template-hash"],
		},
	}}, nil
}

// writeTargets rewrites Prometheus' file_sd targets; the caller holds r.mu.
func (r *podRunner) writeTargets() {
	targets := make([]scrapeTarget, 0, len(r.running))
	for _, rp := range r.running {
		targets = append(targets, rp.target)
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].Targets[0] < targets[j].Targets[0] })
	data, _ := json.MarshalIndent(targets, "", "  ")
	if err := writeFileAtomic(r.targetsPath, data); err != nil {
		fmt.Fprintf(r.log, "sandbox: pod runner: write %s: %v\n", r.targetsPath, err)
	}
}

func (r *podRunner) stop() {
	r.mu.Lock()
	r.stopped = true
	close(r.stopCh)
	procs := make([]*process, 0, len(r.running))
	for uid, rp := range r.running {
		procs = append(procs, rp.proc)
		delete(r.running, uid)
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); p.stop(3 * time.Second) }()
	}
	wg.Wait()
}
