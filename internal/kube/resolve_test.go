package kube

import (
	"context"
	"strings"
	"testing"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
)

// lookupOf is a kind whose rollouts are the names given.
func lookupOf(kind ref.Kind, names ...string) kindLookup {
	return kindLookup{kind, func(_ context.Context, _ kubeapi.API, _, name string) (bool, error) {
		for _, n := range names {
			if n == name {
				return true, nil
			}
		}
		return false, nil
	}}
}

func TestResolveABareName(t *testing.T) {
	kinds := []kindLookup{lookupOf(ref.Deployment, "orders-api", "checkout"), lookupOf(ref.ArgoRollout, "checkout")}
	ctx := context.Background()
	got, err := resolve(ctx, nil, ref.Rollout{Namespace: "shop", Name: "orders-api"}, kinds)
	if err != nil || got.Kind != ref.Deployment {
		t.Errorf("orders-api: %v, %v; want the Deployment", got, err)
	}
	_, err = resolve(ctx, nil, ref.Rollout{Namespace: "shop", Name: "checkout"}, kinds)
	if err == nil || !strings.Contains(err.Error(), "deployment/checkout or rollout/checkout") {
		t.Errorf("checkout is both kinds: %v; want an error naming both", err)
	}
	got, err = resolve(ctx, nil, ref.Rollout{Kind: ref.ArgoRollout, Namespace: "shop", Name: "checkout"}, kinds)
	if err != nil || got.Kind != ref.ArgoRollout {
		t.Errorf("rollout/checkout: %v, %v", got, err)
	}
	_, err = resolve(ctx, nil, ref.Rollout{Namespace: "shop", Name: "nope"}, kinds)
	if err == nil || !strings.Contains(err.Error(), `no rollout named "nope" in namespace "shop" (looked for: deployment, rollout)`) {
		t.Errorf("nope: %v", err)
	}
}

func TestResolveWithOneKindAsksNothing(t *testing.T) {
	asked := false
	kinds := []kindLookup{{ref.Deployment, func(context.Context, kubeapi.API, string, string) (bool, error) { asked = true; return false, nil }}}
	got, err := resolve(context.Background(), nil, ref.Rollout{Namespace: "shop", Name: "orders-api"}, kinds)
	if err != nil || got.Kind != ref.Deployment || asked {
		t.Errorf("%v, %v, asked %v; want the Deployment without a request", got, err, asked)
	}
	if _, err := resolve(context.Background(), nil, ref.Rollout{Kind: ref.ArgoRollout, Namespace: "shop", Name: "checkout"}, kinds); err == nil || !strings.Contains(err.Error(), "reads only deployment") {
		t.Errorf("rollout/ without Argo support: %v", err)
	}
}
