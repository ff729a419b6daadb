package app

import (
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// build is a revision's provenance as CI stamps it.
func build(sha, version, lock, image safetext.Text, digest string) provenance.Provenance {
	return provenance.Provenance{GitSHA: sha, Version: version, LockHash: lock, Python: "3.11.10",
		Images: []provenance.Image{{Container: "app", Ref: image, Digests: []string{digest}}}}
}

var clock = time.Date(2026, 11, 22, 3, 12, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func pods(prefix string, n int, ready bool, mutate func(*rollout.Pod)) []*rollout.Pod {
	out := make([]*rollout.Pod, n)
	for i := range out {
		out[i] = &rollout.Pod{Name: prefix + string(rune('a'+i)), Ready: ready, Phase: "Running", CreatedAt: clock.Add(-20 * time.Minute)}
		if mutate != nil {
			mutate(out[i])
		}
	}
	return out
}

// demoRollouts are the sandbox's three seeded services as the console receives them.
func demoRollouts() []rollout.Rollout {
	crash := func(p *rollout.Pod) {
		p.Reason, p.Restarts, p.ExitCode = rollout.ReasonCrashLoop, 4, ptr(int32(1))
		p.Detail = "back-off 40s restarting failed container=app"
		p.Hint = "ModuleNotFoundError: No module named 'orjson'"
		p.NotReadySince = ptr(clock.Add(-6 * time.Minute))
	}
	return []rollout.Rollout{
		{
			Kind: "Deployment", Namespace: "demo", Name: "search-api", Phase: rollout.PhaseDegraded,
			Why:            "1/1 canary pods CrashLoopBackOff: ModuleNotFoundError: No module named 'orjson'",
			CanaryRevision: 2, StableRevision: 1, StartedAt: clock.Add(-6 * time.Minute),
			Replicas: rollout.Replicas{Desired: 3, Current: 4, Updated: 1, Ready: 3, Available: 3, Unavailable: 1},
			Revisions: []rollout.Revision{
				{Number: 2, Role: rollout.RoleCanary, ReplicaSet: "search-api-5fbccb9dc4", Images: []safetext.Text{"ghcr.io/acme/search:3.3.0"},
					Provenance: build("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "3.3.0", "sha256:e8d7c6b5a4f3", "ghcr.io/acme/search:3.3.0", "sha256:9c9adfee2f0f1bb936467f3f24dab7ffd93b141bb33d2ca00f84d48bddc83d07"),
					Desired:    1, Current: 1, CreatedAt: clock.Add(-6 * time.Minute), Pods: pods("search-api-5fbccb9dc4-", 1, false, crash)},
				{Number: 1, Role: rollout.RoleStable, ReplicaSet: "search-api-b544f78b", Images: []safetext.Text{"ghcr.io/acme/search:3.2.0"},
					Provenance: build("5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d", "3.2.0", "sha256:c3b2a1f0e9d8", "ghcr.io/acme/search:3.2.0", "sha256:13aec34e4df24b0ff0687504bc87059a3fcadfa3f7e081113b29fd3ebf1992db"),
					Desired:    3, Current: 3, Ready: 3, Available: 3, CreatedAt: clock.Add(-20 * time.Minute), Pods: pods("search-api-b544f78b-", 3, true, nil)},
			},
			Events: []rollout.Event{
				{Time: clock.Add(-6 * time.Minute), Type: "Normal", Reason: "ScalingReplicaSet", Object: "Deployment/search-api", Message: "Scaled up replica set search-api-5fbccb9dc4 from 0 to 1"},
			},
		},
		{
			Kind: "Deployment", Namespace: "demo", Name: "orders-api", Phase: rollout.PhaseHalted, Paused: true,
			Why:            "halted with 1/4 pods on the new revision",
			CanaryRevision: 2, StableRevision: 1, StartedAt: clock.Add(-7 * time.Minute),
			Replicas: rollout.Replicas{Desired: 4, Current: 5, Updated: 1, Ready: 5, Available: 5},
			Revisions: []rollout.Revision{
				{Number: 2, Role: rollout.RoleCanary, ReplicaSet: "orders-api-d88898778", Images: []safetext.Text{"ghcr.io/acme/orders:1.8.0"},
					Provenance: build("3f2a9c1b7e5d3a1f9c7b5e3d1a9f7c5b3e1d9a7f", "1.8.0", "sha256:7a6b5c4d3e2f", "ghcr.io/acme/orders:1.8.0", "sha256:4092d8225997815711322bb01c4db4d0441ded64c213fb0482136a71db2fedfe"),
					Desired:    1, Current: 1, Ready: 1, Available: 1, CreatedAt: clock.Add(-7 * time.Minute), Pods: pods("orders-api-d88898778-", 1, true, nil)},
				{Number: 1, Role: rollout.RoleStable, ReplicaSet: "orders-api-64476c9df5", Images: []safetext.Text{"ghcr.io/acme/orders:1.7.3"},
					Provenance: build("9b01d4e6a2c8f0b1d3e5a7c9b2d4f6a8c0e2b4d6", "1.7.3", "sha256:0d9e8c7b6a51", "ghcr.io/acme/orders:1.7.3", "sha256:fbe2251703a6e5b8bd2e310c155e0eb2d13fb0ea3558ec6ad10b3483df3ee4fc"),
					Desired:    4, Current: 4, Ready: 4, Available: 4, CreatedAt: clock.Add(-20 * time.Minute), Pods: pods("orders-api-64476c9df5-", 4, true, nil)},
			},
		},
		{
			Kind: "Deployment", Namespace: "demo", Name: "payments-api", Phase: rollout.PhaseComplete,
			Why: "3/3 available on revision 1", CanaryRevision: 1, StartedAt: clock.Add(-3 * time.Hour),
			Replicas: rollout.Replicas{Desired: 3, Current: 3, Updated: 3, Ready: 3, Available: 3},
			Revisions: []rollout.Revision{
				{Number: 1, Role: rollout.RoleCanary, ReplicaSet: "payments-api-7bcfc8449", Images: []safetext.Text{"ghcr.io/acme/payments:2.4.1"},
					Provenance: build("7c1e9a4b2d6f8e0a3c5b7d9f1e3a5c7b9d1f3e5a", "2.4.1", "sha256:5f4e3d2c1b0a", "ghcr.io/acme/payments:2.4.1", "sha256:1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988"),
					Desired:    3, Current: 3, Ready: 3, Available: 3, CreatedAt: clock.Add(-3 * time.Hour), Pods: pods("payments-api-7bcfc8449-", 3, true, nil)},
			},
		},
	}
}
