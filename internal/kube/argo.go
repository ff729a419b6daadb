package kube

import (
	"context"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
)

// argoDiscovery remembers whether the watcher has its answer about Argo Rollouts.
type argoDiscovery struct {
	decided   bool
	lastAsked time.Time
}

// argoRetry is how long the watcher waits to ask again when the API server did not answer.
const argoRetry = 5 * time.Second

// discoverArgo asks, once, whether Argo Rollouts are served and readable here, and starts
// their informers if so. A cluster without the CRDs, or a user who may not list rollouts,
// answers "no" at once: no error, no wait, no informer left syncing. It reports whether it
// started informers.
func (l *watchLoop) discoverArgo(ctx context.Context) bool {
	if l.argo.decided || (!l.argo.lastAsked.IsZero() && l.w.opts.Clock.Since(l.argo.lastAsked) < argoRetry) {
		return false
	}
	l.argo.lastAsked = l.w.opts.Clock.Now()
	readable, err := ArgoReadable(ctx, l.w.cluster.Client, l.w.opts.Namespace)
	if err != nil {
		return false // the API server is unreachable: the connection state says so; ask again
	}
	l.argo.decided = true
	if !readable {
		return false
	}
	l.w.newArgoInformers(&l.informers)
	for _, wi := range l.informers.argoTable() {
		l.start(ctx, wi, l.w.handle(wi, l.informers.indexes))
	}
	return true
}

// ArgoReadable says whether the API server serves Argo Rollouts and lets the caller list
// them in namespace ("" for all): GET /apis/argoproj.io/v1alpha1, then an access review.
// An error means no answer (the server is unreachable), not "no".
func ArgoReadable(ctx context.Context, api kubeapi.API, namespace string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	served, err := api.ServesArgoRollouts(ctx)
	if err != nil || !served {
		return false, err
	}
	review, err := api.ReviewAccess(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: namespace, Verb: "watch", Group: argo.GroupVersion.Group, Resource: "rollouts",
		}},
	})
	if err != nil {
		return false, err
	}
	return review.Status.Allowed, nil
}
