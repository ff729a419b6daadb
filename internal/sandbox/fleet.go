package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// FleetMember is one cluster of several behind one kubeconfig: the context and cluster
// names it gets there, the kubeconfig whose current context reaches it, and its
// Prometheus ("" for none).
type FleetMember struct {
	Context, Cluster string
	Kubeconfig       string
	PrometheusURL    string
}

// WriteFleet writes into dir one kubeconfig with a context per member (the first one
// current) and a kubectl-pyroll config file that names each context's Prometheus: what
// `kubectl pyroll --all-contexts` needs to show several clusters. It returns both paths.
func WriteFleet(dir string, members []FleetMember) (kubeconfig, config string, err error) {
	merged := clientcmdapi.NewConfig()
	var prometheus strings.Builder
	for i, m := range members {
		one, err := clientcmd.LoadFromFile(m.Kubeconfig)
		if err != nil {
			return "", "", fmt.Errorf("fleet: %w", err)
		}
		current, ok := one.Contexts[one.CurrentContext]
		if !ok {
			return "", "", fmt.Errorf("fleet: %s has no current context", m.Kubeconfig)
		}
		user := m.Context + "-user"
		merged.Clusters[m.Cluster] = one.Clusters[current.Cluster]
		merged.AuthInfos[user] = one.AuthInfos[current.AuthInfo]
		merged.Contexts[m.Context] = &clientcmdapi.Context{Cluster: m.Cluster, AuthInfo: user, Namespace: current.Namespace}
		if i == 0 {
			merged.CurrentContext = m.Context
		}
		if m.PrometheusURL != "" {
			fmt.Fprintf(&prometheus, "  %s: {prometheus: {url: %q}}\n", m.Context, m.PrometheusURL)
		}
	}
	kubeconfig = filepath.Join(dir, "kubeconfig-fleet")
	if err := clientcmd.WriteToFile(*merged, kubeconfig); err != nil {
		return "", "", fmt.Errorf("fleet: %w", err)
	}
	config = filepath.Join(dir, "pyroll-fleet.yaml")
	doc := "# Each context's Prometheus (written by pyroll-sandbox).\n"
	if prometheus.Len() > 0 {
		doc += "contexts:\n" + prometheus.String()
	}
	if err := os.WriteFile(config, []byte(doc), 0o600); err != nil {
		return "", "", fmt.Errorf("fleet: %w", err)
	}
	return kubeconfig, config, nil
}
