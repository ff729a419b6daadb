package kube

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
)

// kindLookup says whether a rollout of one kind with this name exists. A new kind of
// rollout adds its lookup to rolloutKinds.
type kindLookup struct {
	kind   ref.Kind
	exists func(ctx context.Context, api kubeapi.API, namespace, name string) (bool, error)
}

// rolloutKinds are the kinds kubectl-pyroll reads, in the order messages name them.
var rolloutKinds = []kindLookup{
	{ref.Deployment, func(ctx context.Context, api kubeapi.API, namespace, name string) (bool, error) {
		_, err := api.Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	}},
	{ref.ArgoRollout, func(ctx context.Context, api kubeapi.API, namespace, name string) (bool, error) {
		// A cluster without Argo Rollouts answers 404 for the whole resource, and a user who
		// may not read them cannot mean one: no such rollout either way.
		_, err := api.Rollouts(namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
			return false, nil
		}
		return err == nil, err
	}},
}

// Resolve gives a NAME typed without a kind (target.Kind "") its kind: the one kind of
// rollout with that name in the namespace. It is an error when none or several match,
// saying which kinds did. A qualified NAME (deployment/NAME) is returned as it is once
// its kind is one kubectl-pyroll reads.
func Resolve(ctx context.Context, api kubeapi.API, target ref.Rollout) (ref.Rollout, error) {
	return resolve(ctx, api, target, rolloutKinds)
}

func resolve(ctx context.Context, api kubeapi.API, target ref.Rollout, kinds []kindLookup) (ref.Rollout, error) {
	known := make([]ref.Kind, len(kinds))
	for i, k := range kinds {
		known[i] = k.kind
	}
	if target.Kind != "" {
		for _, k := range known {
			if k == target.Kind {
				return target, nil
			}
		}
		return target, fmt.Errorf("%s: this version of kubectl-pyroll reads only %s", target, ref.KindList(known))
	}
	if len(kinds) == 1 {
		// Nothing to choose between: the read that follows says "not found" if need be.
		target.Kind = kinds[0].kind
		return target, nil
	}
	var matched []ref.Kind
	for _, k := range kinds {
		ok, err := k.exists(ctx, api, target.Namespace, target.Name)
		if err != nil {
			return target, fmt.Errorf("looking for %q in namespace %q: %w", target.Name, target.Namespace, err)
		}
		if ok {
			matched = append(matched, k.kind)
		}
	}
	switch len(matched) {
	case 1:
		target.Kind = matched[0]
		return target, nil
	case 0:
		return target, fmt.Errorf("no rollout named %q in namespace %q (looked for: %s)", target.Name, target.Namespace, ref.KindList(known))
	}
	qualified := make([]string, len(matched))
	for i, k := range matched {
		qualified[i] = k.Arg() + "/" + target.Name
	}
	return target, fmt.Errorf("%q is the name of more than one rollout in namespace %q (%s): say which, as %s",
		target.Name, target.Namespace, ref.KindList(matched), strings.Join(qualified, " or "))
}
