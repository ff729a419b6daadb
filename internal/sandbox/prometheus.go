package sandbox

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
)

// ScrapeInterval is how often the sandbox's Prometheus scrapes the sample pods: short, so
// tests and the demo see rates within seconds.
const ScrapeInterval = 2 * time.Second

func (s *Sandbox) startPrometheus(ctx context.Context, p ports) error {
	targets := s.path("prometheus", "targets.json")
	if err := writeFileAtomic(targets, []byte("[]\n")); err != nil {
		return err
	}
	config := s.path("prometheus", "prometheus.yml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`global:
  scrape_interval: %[1]s
  evaluation_interval: %[1]s
scrape_configs:
- job_name: sample-pods
  file_sd_configs:
  - files: [%[2]q]
    refresh_interval: %[1]s
`, ScrapeInterval, targets)), 0o644); err != nil {
		return err
	}
	// Prometheus listens where the egress proxy sends the in-cluster Service's endpoint
	// (see exposePrometheus), so the API server's service proxy reaches it too.
	listen := net.JoinHostPort(s.loopback.servingIPMust(prometheusPodIP), strconv.Itoa(p.prometheus))
	s.PrometheusURL = "http://" + listen
	s.prometheusPort = p.prometheus
	s.prometheusArgs = []string{
		"--config.file=" + config,
		"--storage.tsdb.path=" + s.path("prometheus", "data"),
		"--storage.tsdb.retention.time=6h",
		"--web.listen-address=" + listen,
		"--log.level=warn",
	}
	return s.StartPrometheus(ctx)
}

// StartPrometheus starts Prometheus (again, after StopPrometheus) on the same port and
// data, and waits until it is ready.
func (s *Sandbox) StartPrometheus(ctx context.Context) error {
	proc, err := s.launch("prometheus", prometheusBin, s.prometheusArgs)
	if err != nil {
		return err
	}
	err = waitFor(ctx, "prometheus", proc, 60*time.Second, func(ctx context.Context) error {
		return httpExpect(ctx, http.DefaultClient, s.PrometheusURL+"/-/ready", "Ready")
	})
	if err == nil {
		s.logf("prometheus ready on %s", s.PrometheusURL)
	}
	return err
}

// StopPrometheus stops Prometheus, leaving everything else running.
func (s *Sandbox) StopPrometheus() { s.stopComponent("prometheus") }

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// The in-cluster address of the sandbox's Prometheus: kwok hands out pod IPs from the bottom
// of podCIDR, so the top address is never a pod's.
const prometheusPodIP = "10.244.255.254"

const prometheusPodName = "prometheus-0"

// PrometheusService is the Service in front of the sandbox's Prometheus, as
// --prometheus-service takes it: what a jump host that reaches only the API server uses.
const PrometheusService = "monitoring/prometheus:9090"

// exposePrometheus creates monitoring/prometheus (port 9090) with an endpoint at
// prometheusPodIP, which the API server reaches through the egress proxy.
func (s *Sandbox) exposePrometheus(ctx context.Context) error {
	const ns, name = "monitoring", "prometheus"
	if _, err := s.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("namespace %s: %w", ns, err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "web", Port: 9090, TargetPort: intstr.FromInt32(int32(s.prometheusPort))}}},
	}
	if _, err := s.client.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("service %s/%s: %w", ns, name, err)
	}
	// The service proxy forwards only to addresses that are pods' IPs, so Prometheus gets a
	// pod: bound to a node no kwok manages, its status written here, never run by anyone.
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: prometheusPodName, Namespace: ns, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{NodeName: "sandbox-host", AutomountServiceAccountToken: new(bool), Containers: []corev1.Container{{
			Name: "prometheus", Image: "debian/prometheus (runs on the sandbox host)",
		}}},
	}
	var created *corev1.Pod
	// Until the serviceaccount controller has made the namespace's default account, the
	// admission plugin refuses pods.
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		created, err = s.client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
		return err == nil, nil
	})
	if err != nil {
		return fmt.Errorf("pod %s/%s: %w", ns, prometheusPodName, err)
	}
	created.Status = corev1.PodStatus{
		Phase: corev1.PodRunning, PodIP: prometheusPodIP, PodIPs: []corev1.PodIP{{IP: prometheusPodIP}},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
	}
	if _, err := s.client.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("pod %s/%s status: %w", ns, prometheusPodName, err)
	}
	port := int32(s.prometheusPort)
	target := &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: prometheusPodName, UID: created.UID}
	// The API server's service proxy resolves a Service through its Endpoints.
	endpoints := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Subsets:    []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: prometheusPodIP, TargetRef: target}}, Ports: []corev1.EndpointPort{{Name: "web", Port: port}}}},
	}
	if _, err := s.client.CoreV1().Endpoints(ns).Create(ctx, endpoints, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("endpoints %s/%s: %w", ns, name, err)
	}
	portName := "web"
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{prometheusPodIP}, TargetRef: target}},
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port}},
	}
	if _, err := s.client.DiscoveryV1().EndpointSlices(ns).Create(ctx, slice, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("endpointslice %s/%s: %w", ns, name, err)
	}
	return nil
}
