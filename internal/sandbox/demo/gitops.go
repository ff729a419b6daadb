package demo

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/gitops"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/workload"
)

// The demo's GitOps services, when the sandbox runs Flux (make demo does): inventory-api
// applied by a Flux Kustomization from the sandbox's Git server (1.4.0, then 1.5.0 committed),
// ledger-api installed by the real helm CLI (chart 0.2.0 with 3.0.0, then 0.3.0 with 3.1.0).
// A rollback of either shows what its owner will do before y.
var (
	InventoryV1 = workload.Release{Namespace: Namespace, Name: "inventory-api", Image: "ghcr.io/acme/inventory:1.4.0", Version: "1.4.0",
		GitSHA: "6f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6", Replicas: 2, NoTraffic: true}
	InventoryV2 = withBuild(InventoryV1, "ghcr.io/acme/inventory:1.5.0", "1.5.0", "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567")
	LedgerV1    = workload.Release{Namespace: Namespace, Name: "ledger-api", Image: "ghcr.io/acme/ledger:3.0.0", Version: "3.0.0",
		GitSHA: "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807", Replicas: 2, NoTraffic: true}
	LedgerV2 = withBuild(LedgerV1, "ghcr.io/acme/ledger:3.1.0", "3.1.0", "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d")
)

func withBuild(r workload.Release, image, version, sha string) workload.Release {
	r.Image, r.Version, r.GitSHA = image, version, sha
	return r
}

// SeedGitOps puts the GitOps services into the demo namespace (the sandbox must run Flux).
func SeedGitOps(ctx context.Context, sb *sandbox.Sandbox, log io.Writer) error {
	client, dyn := sb.Client(), sb.Dynamic()
	if err := workload.EnsureNamespace(ctx, client, Namespace); err != nil {
		return err
	}
	app, err := gitops.FluxDeploy(ctx, sb, InventoryV1.Name, InventoryV1, gitops.FluxOptions{SourceInterval: 10 * time.Second, Interval: 30 * time.Second})
	if err != nil {
		return fmt.Errorf("inventory-api under Flux: %w", err)
	}
	if err := app.WaitApplied(ctx, dyn, app.Revision, 2*time.Minute); err != nil {
		return err
	}
	if err := workload.WaitDeployment(ctx, client, Namespace, InventoryV1.Name, 2*time.Minute, "complete", workload.DeploymentComplete); err != nil {
		return err
	}
	sha, err := app.Commit(InventoryV2, "inventory-api "+InventoryV2.Version)
	if err != nil {
		return err
	}
	if err := app.WaitApplied(ctx, dyn, sha, 2*time.Minute); err != nil {
		return err
	}
	if err := gitops.HelmInstall(ctx, sb, LedgerV1.Name, gitops.HelmChart{Version: "0.2.0", Release: LedgerV1}); err != nil {
		return fmt.Errorf("ledger-api by helm: %w", err)
	}
	if err := workload.WaitDeployment(ctx, client, Namespace, LedgerV1.Name, 2*time.Minute, "complete", workload.DeploymentComplete); err != nil {
		return err
	}
	if err := gitops.HelmUpgrade(ctx, sb, LedgerV1.Name, gitops.HelmChart{Version: "0.3.0", Release: LedgerV2}); err != nil {
		return fmt.Errorf("ledger-api by helm: %w", err)
	}
	fmt.Fprintf(log, "sandbox: seeded %s/inventory-api (Flux Kustomization %s/%s, every 30s: %s then %s) and %s/ledger-api (helm release: chart 0.2.0 then 0.3.0)\n",
		Namespace, sandbox.FluxNamespace, app.Name, InventoryV1.Version, InventoryV2.Version, Namespace)
	return nil
}
