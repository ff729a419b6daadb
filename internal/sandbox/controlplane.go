package sandbox

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/pyroll/kubectl-pyroll/assets"
)

func (s *Sandbox) bin(name string) string { return filepath.Join(s.opts.BinDir, name) }

func (s *Sandbox) startEtcd(ctx context.Context, p ports) error {
	client := "http://" + hostPort(p.etcdClient)
	peer := "http://" + hostPort(p.etcdPeer)
	s.etcdURL = client
	s.etcdArgs = []string{
		"--name=sandbox",
		"--data-dir=" + s.path("etcd"),
		"--listen-client-urls=" + client,
		"--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer,
		"--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=sandbox=" + peer,
		"--listen-metrics-urls=",
		"--unsafe-no-fsync", // a throwaway test store: durability buys nothing, fsync costs seconds
		"--log-level=warn",
	}
	return s.StartEtcd(ctx)
}

// StartEtcd starts etcd (again, after StopEtcd) on the same ports and data directory, and
// waits until it is healthy.
func (s *Sandbox) StartEtcd(ctx context.Context) error {
	proc, err := s.launch("etcd", s.bin("etcd"), s.etcdArgs)
	if err != nil {
		return err
	}
	err = waitFor(ctx, "etcd", proc, 60*time.Second, func(ctx context.Context) error {
		return httpExpect(ctx, http.DefaultClient, s.etcdURL+"/health", `"health":"true"`)
	})
	if err == nil {
		s.logf("etcd ready on %s", s.etcdURL)
	}
	return err
}

// StopEtcd stops etcd, leaving everything else (the API server included) running: for
// tests of how clients live through a storage outage. Its data stays for StartEtcd.
func (s *Sandbox) StopEtcd() { s.stopComponent("etcd") }

// RestartEtcd stops etcd and starts it again on the same ports and data.
func (s *Sandbox) RestartEtcd(ctx context.Context) error {
	s.StopEtcd()
	return s.StartEtcd(ctx)
}

// CompactEtcd compacts etcd's history up to its current revision (as the API server does
// every five minutes): a watch from an older resource version then gets 410 Gone, "too old
// resource version", where the API server serves it from etcd (Options.APIServerArgs
// --watch-cache=false). It returns the revision compacted at.
func (s *Sandbox) CompactEtcd(ctx context.Context) (int64, error) {
	return compactEtcd(ctx, s.etcdURL)
}

func (s *Sandbox) startAPIServer(ctx context.Context, p ports, f pkiFiles) error {
	egressConfig := s.path("egress-selector.yaml")
	if err := os.WriteFile(egressConfig, []byte(fmt.Sprintf(`apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: %s
`, s.path("egress.sock"))), 0o644); err != nil {
		return err
	}
	s.apiserverArgs = []string{
		"--etcd-servers=http://" + hostPort(p.etcdClient),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", p.apiserver),
		"--tls-cert-file=" + f.serverCert,
		"--tls-private-key-file=" + f.serverKey,
		"--client-ca-file=" + f.caCert,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + f.serviceAccountKey,
		"--service-account-signing-key-file=" + f.serviceAccountKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--kubelet-client-certificate=" + f.kubeletClientCert,
		"--kubelet-client-key=" + f.kubeletClientKey,
		"--kubelet-certificate-authority=" + f.caCert,
		// kwok's nodes report Hostname kwok-node-N, which nothing resolves, and InternalIP
		// 127.0.0.1, where kwok serves the kubelet API (container logs).
		"--kubelet-preferred-address-types=InternalIP",
		"--egress-selector-config-file=" + egressConfig,
		// The endpoint reconciler would publish 127.0.0.1 for the kubernetes Service,
		// which Endpoints validation rejects; nothing in the sandbox needs that Service.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
		"--v=1",
	}
	audit, err := s.auditArgs()
	if err != nil {
		return err
	}
	s.apiserverArgs = append(s.apiserverArgs, audit...)
	if s.opts.Scale {
		s.apiserverArgs = append(s.apiserverArgs, scaleAPIServerArgs...)
	}
	s.apiserverArgs = append(s.apiserverArgs, s.opts.APIServerArgs...)
	s.APIServerURL = "https://" + hostPort(p.apiserver)
	cert, err := tls.X509KeyPair(f.admin.CertPEM, f.admin.KeyPEM)
	if err != nil {
		return err
	}
	s.adminHTTP = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		Certificates: []tls.Certificate{cert}, RootCAs: s.ca.pool(),
	}}}
	return s.StartAPIServer(ctx)
}

// StartAPIServer starts kube-apiserver (again, after StopAPIServer) on the same port and
// store, and waits until it is ready.
func (s *Sandbox) StartAPIServer(ctx context.Context) error {
	proc, err := s.launch("kube-apiserver", s.bin("kube-apiserver"), s.apiserverArgs)
	if err != nil {
		return err
	}
	err = waitFor(ctx, "kube-apiserver", proc, 90*time.Second, func(ctx context.Context) error {
		return httpExpect(ctx, s.adminHTTP, s.APIServerURL+"/readyz", "ok")
	})
	if err == nil {
		s.logf("kube-apiserver ready on %s", s.APIServerURL)
	}
	return err
}

// StopAPIServer stops kube-apiserver, leaving everything else running: for tests of how
// clients live through an API server restart.
func (s *Sandbox) StopAPIServer() { s.stopComponent("kube-apiserver") }

// RestartAPIServer stops kube-apiserver and starts it again on the same port and store.
func (s *Sandbox) RestartAPIServer(ctx context.Context) error {
	s.StopAPIServer()
	return s.StartAPIServer(ctx)
}

// stopComponent stops the running process of that name.
func (s *Sandbox) stopComponent(name string) {
	s.mu.Lock()
	var target *process
	kept := s.procs[:0]
	for _, p := range s.procs {
		if p.name == name && !p.exited() {
			target = p
			continue
		}
		kept = append(kept, p)
	}
	s.procs = kept
	s.mu.Unlock()
	if target != nil {
		target.stop(10 * time.Second)
	}
	s.recordPIDs()
}

func (s *Sandbox) writeKubeconfig(f pkiFiles) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["pyroll-sandbox"] = &clientcmdapi.Cluster{Server: s.APIServerURL, CertificateAuthorityData: s.ca.certPEM}
	cfg.AuthInfos["pyroll-admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: f.admin.CertPEM, ClientKeyData: f.admin.KeyPEM}
	cfg.Contexts["pyroll-sandbox"] = &clientcmdapi.Context{Cluster: "pyroll-sandbox", AuthInfo: "pyroll-admin", Namespace: "demo"}
	cfg.CurrentContext = "pyroll-sandbox"
	s.Kubeconfig = s.path("kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, s.Kubeconfig); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return s.loadClient()
}

// UserKubeconfig writes a kubeconfig for a user authenticated by a client certificate
// (CN=user, O=groups) and returns its path: RBAC decides what that user may do.
func (s *Sandbox) UserKubeconfig(user string, groups ...string) (string, error) {
	pair, err := s.ca.issue(user, groups, nil, nil)
	if err != nil {
		return "", err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["pyroll-sandbox"] = &clientcmdapi.Cluster{Server: s.APIServerURL, CertificateAuthorityData: s.ca.certPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: pair.CertPEM, ClientKeyData: pair.KeyPEM}
	cfg.Contexts[user] = &clientcmdapi.Context{Cluster: "pyroll-sandbox", AuthInfo: user, Namespace: "demo"}
	cfg.CurrentContext = user
	path := s.path("kubeconfig-" + sanitizeFileName(user))
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return "", fmt.Errorf("write kubeconfig for %s: %w", user, err)
	}
	return path, nil
}

func sanitizeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ':' || r == ' ' {
			return '_'
		}
		return r
	}, s)
}

var controllers = []string{
	"deployment-controller", "replicaset-controller", "garbage-collector-controller",
	"namespace-controller", "serviceaccount-controller", "serviceaccount-token-controller",
	"node-lifecycle-controller",
}

// With Options.Scale, the components are set for thousands of pods: the defaults (the
// controller-manager's and the scheduler's 20 and 50 requests per second, 5 ReplicaSets
// synced at a time, kwok's 4 stage workers, the scheduler's default topology spread) would
// take many minutes to create and start 10,000 pods on their own.
var (
	scaleAPIServerArgs = []string{
		"--max-requests-inflight=1000",
		"--max-mutating-requests-inflight=500",
	}
	scaleControllerManagerArgs = []string{
		"--kube-api-qps=400",
		"--kube-api-burst=800",
		"--concurrent-deployment-syncs=20",
		"--concurrent-replicaset-syncs=20",
	}
)

// scaleSchedulerConfig (%s: the kubeconfig) is the scheduler's configuration at scale: the
// client rates above, and no system default topology spread. By default every pod of a
// ReplicaSet is spread by hostname and zone, which counts the matching pods on each node
// for each pod scheduled: the cost of a pod grows with the pods already placed, and 50,000
// pods on 20 nodes slowed to a few binds a second (10,000 did not show it). The sandbox's
// pods are not spread anyway: kwok's nodes have room for all of them.
const scaleSchedulerConfig = `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: %q
  qps: 400
  burst: 800
enableProfiling: false
leaderElection:
  leaderElect: false
profiles:
- schedulerName: default-scheduler
  pluginConfig:
  - name: PodTopologySpread
    args:
      defaultingType: List
`

// scaleKwokConfig raises kwok's parallelism (it has no client rate limit of its own).
const scaleKwokConfig = `apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  podPlayStageParallelism: 16
  nodePlayStageParallelism: 8
  nodeLeaseParallelism: 8
`

func (s *Sandbox) startControllers(ctx context.Context, p ports, f pkiFiles) error {
	kcmArgs := []string{
		"--kubeconfig=" + s.Kubeconfig,
		"--controllers=" + strings.Join(controllers, ","),
		"--service-account-private-key-file=" + f.serviceAccountKey,
		"--root-ca-file=" + f.caCert,
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", p.controllerManager),
		"--leader-elect=false",
		"--profiling=false",
		"--v=1",
	}
	schedulerArgs := []string{
		"--kubeconfig=" + s.Kubeconfig,
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", p.scheduler),
		"--leader-elect=false",
		"--profiling=false",
		"--v=1",
	}
	if s.opts.Scale {
		kcmArgs = append(kcmArgs, scaleControllerManagerArgs...)
		// With a configuration file, the scheduler ignores --kubeconfig: the file names it.
		config := s.path("kube-scheduler.yaml")
		if err := os.WriteFile(config, fmt.Appendf(nil, scaleSchedulerConfig, s.Kubeconfig), 0o644); err != nil {
			return err
		}
		schedulerArgs = append(schedulerArgs, "--config="+config)
	}
	kcm, err := s.launch("kube-controller-manager", s.bin("kube-controller-manager"), kcmArgs)
	if err != nil {
		return err
	}
	scheduler, err := s.launch("kube-scheduler", s.bin("kube-scheduler"), schedulerArgs)
	if err != nil {
		return err
	}
	// kwok's Logs objects say which files hold a pod's container logs (see containerlog.go).
	if err := installKwokLogsCRD(ctx, s.dynamic); err != nil {
		return err
	}
	kwokConfig := s.path("kwok.yaml")
	stages := assets.KwokStages()
	if s.opts.Scale {
		stages = append(append(stages, "\n---\n"...), scaleKwokConfig...)
	}
	if err := os.WriteFile(kwokConfig, stages, 0o644); err != nil {
		return err
	}
	kwok, err := s.launch("kwok", s.bin("kwok"), []string{
		"--kubeconfig=" + s.Kubeconfig,
		"--config=" + kwokConfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--cidr=" + podCIDR,
		"--node-ip=127.0.0.1",
		// kwok's kubelet API: the nodes advertise this port (daemonEndpoints), the API server
		// reaches it over HTTPS for `kubectl logs`; plain HTTP (healthz) shares the port.
		"--server-address=" + hostPort(p.kwok),
		fmt.Sprintf("--node-port=%d", p.kwok),
		"--tls-cert-file=" + f.kwokCert,
		"--tls-private-key-file=" + f.kwokKey,
		"--enable-crds=Logs",
	})
	if err != nil {
		return err
	}
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	checks := []struct {
		proc *process
		url  string
		c    *http.Client
	}{
		{kcm, fmt.Sprintf("https://%s/healthz", hostPort(p.controllerManager)), insecure},
		{scheduler, fmt.Sprintf("https://%s/healthz", hostPort(p.scheduler)), insecure},
		{kwok, fmt.Sprintf("http://%s/healthz", hostPort(p.kwok)), http.DefaultClient},
	}
	for _, c := range checks {
		if err := waitFor(ctx, c.proc.name, c.proc, 60*time.Second, func(ctx context.Context) error {
			return httpExpect(ctx, c.c, c.url, "ok")
		}); err != nil {
			return err
		}
	}
	s.logf("kube-controller-manager, kube-scheduler and kwok ready")
	return nil
}

func (s *Sandbox) createNodes(ctx context.Context) error {
	for i := 0; i < s.opts.Nodes; i++ {
		name := fmt.Sprintf("kwok-node-%d", i)
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels: map[string]string{
				"type": "kwok", "kubernetes.io/hostname": name,
				"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
			},
		}}
		if _, err := s.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create node %s: %w", name, err)
		}
	}
	err := waitFor(ctx, "kwok nodes Ready and schedulable", nil, 60*time.Second, func(ctx context.Context) error {
		nodes, err := s.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		ready := 0
		for _, n := range nodes.Items {
			if nodeReady(&n) && len(n.Spec.Taints) == 0 {
				ready++
			}
		}
		if ready < s.opts.Nodes {
			return fmt.Errorf("%d of %d nodes Ready without taints", ready, s.opts.Nodes)
		}
		return nil
	})
	if err == nil {
		s.logf("%d kwok nodes Ready", s.opts.Nodes)
	}
	return err
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
