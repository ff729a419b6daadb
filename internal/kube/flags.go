package kube

import (
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/client-go/tools/clientcmd"
)

// Flags are kubectl's connection flags (--kubeconfig, --context, -n, --as, --server, ...),
// with kubectl's names, defaults and help, read through client-go's clientcmd exactly as
// kubectl reads them, so `kubectl pyroll` talks to the cluster `kubectl` would.
//
// kubectl itself gets them from cli-runtime's ConfigFlags; that package also links
// kustomize, the OpenAPI models and the discovery cache, none of which this tool uses,
// and which cost 13 MB of binary and about 6 MB of resident memory at every start.
type Flags struct {
	Kubeconfig string
	Overrides  clientcmd.ConfigOverrides
	// UserExtras are --as-user-extra key=value pairs.
	UserExtras []string
	// cacheDir is accepted for kubectl compatibility; there is no discovery cache to keep.
	cacheDir string
}

// NewFlags returns unset flags.
func NewFlags() *Flags {
	return &Flags{Overrides: clientcmd.ConfigOverrides{ClusterDefaults: clientcmd.ClusterDefaults}}
}

// AddFlags registers the flags on fs.
func (f *Flags) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&f.Kubeconfig, "kubeconfig", "", "Path to the kubeconfig file to use for CLI requests.")
	names := clientcmd.RecommendedConfigOverrideFlags("")
	// As in kubectl: no basic authentication, no proxy flag (the kubeconfig can set one).
	names.AuthOverrideFlags.Username.LongName = ""
	names.AuthOverrideFlags.Password.LongName = ""
	names.ClusterOverrideFlags.ProxyURL.LongName = ""
	names.ClusterOverrideFlags.APIServer.ShortName = "s"
	names.AuthOverrideFlags.Impersonate.Description = "Username to impersonate for the operation. User could be a regular user or a service account in a namespace."
	names.ClusterOverrideFlags.TLSServerName.Description = "Server name to use for server certificate validation. If it is not provided, the hostname used to contact the server is used"
	clientcmd.BindOverrideFlags(&f.Overrides, fs, names)
	fs.StringArrayVar(&f.UserExtras, "as-user-extra", nil, "User extras to impersonate for the operation, this flag can be repeated to specify multiple values for the same key.")
	fs.StringVar(&f.cacheDir, "cache-dir", "", "accepted for kubectl compatibility; unused (kubectl-pyroll keeps no discovery cache)")
	_ = fs.MarkHidden("cache-dir")
}

// ClientConfig reads the kubeconfig (--kubeconfig, else $KUBECONFIG, else ~/.kube/config)
// with the flags over it. It never prompts: a console must not stop on a password prompt.
func (f *Flags) ClientConfig() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.Kubeconfig
	overrides := f.Overrides
	if len(f.UserExtras) > 0 {
		overrides.AuthInfo.ImpersonateUserExtra = map[string][]string{}
		for _, extra := range f.UserExtras {
			if key, value, ok := strings.Cut(extra, "="); ok {
				overrides.AuthInfo.ImpersonateUserExtra[key] = append(overrides.AuthInfo.ImpersonateUserExtra[key], value)
			}
		}
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &overrides)
}
