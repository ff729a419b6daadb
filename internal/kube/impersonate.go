package kube

import (
	"net/http"

	"k8s.io/client-go/rest"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
)

// ImpersonatedConfig is a copy of base whose every request is made as user in groups
// (the API server checks that base's identity may impersonate them, then applies their
// RBAC). Whatever impersonation base carried (--as, --as-group, --as-uid,
// --as-user-extra) is replaced, not merged; base is not changed.
func ImpersonatedConfig(base *rest.Config, user string, groups []string) *rest.Config {
	cfg := rest.CopyConfig(base)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: append([]string(nil), groups...)}
	return cfg
}

// Impersonating is this cluster's connection seen as user in groups: same API server,
// namespace and context, its own client and health, its requests passed through wrap
// (nil: none). The console of one SSH session runs on it.
func (c *Cluster) Impersonating(user string, groups []string, wrap func(http.RoundTripper) http.RoundTripper) (*Cluster, error) {
	cfg := ImpersonatedConfig(c.Config, user, groups)
	if wrap != nil {
		cfg.Wrap(wrap)
	}
	health := &Health{}
	cfg.Wrap(health.wrap)
	client, err := kubeapi.New(cfg)
	if err != nil {
		return nil, err
	}
	return &Cluster{Config: cfg, Client: client, Namespace: c.Namespace, Context: c.Context, ClusterName: c.ClusterName, User: user, Health: health}, nil
}
