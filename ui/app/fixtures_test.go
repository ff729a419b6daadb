package app

import (
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

var clock = time.Date(2026, 11, 22, 3, 12, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func pods(prefix string, n int, ready bool, mutate func(*rollout.Pod)) []rollout.Pod {
	out := make([]rollout.Pod, n)
	for i := range out {
		out[i] = rollout.Pod{Name: prefix + string(rune('a'+i)), Ready: ready, Phase: "Running", CreatedAt: clock.Add(-20 * time.Minute)}
		if mutate != nil {
			mutate(&out[i])
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
				{Number: 2, Role: rollout.RoleCanary, ReplicaSet: "search-api-5fbccb9dc4", Images: []string{"ghcr.io/acme/search:3.3.0"},
					Desired: 1, Current: 1, CreatedAt: clock.Add(-6 * time.Minute), Pods: pods("search-api-5fbccb9dc4-", 1, false, crash)},
				{Number: 1, Role: rollout.RoleStable, ReplicaSet: "search-api-b544f78b", Images: []string{"ghcr.io/acme/search:3.2.0"},
					Desired: 3, Current: 3, Ready: 3, Available: 3, CreatedAt: clock.Add(-20 * time.Minute), Pods: pods("search-api-b544f78b-", 3, true, nil)},
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
				{Number: 2, Role: rollout.RoleCanary, ReplicaSet: "orders-api-d88898778", Images: []string{"ghcr.io/acme/orders:1.8.0"},
					Desired: 1, Current: 1, Ready: 1, Available: 1, CreatedAt: clock.Add(-7 * time.Minute), Pods: pods("orders-api-d88898778-", 1, true, nil)},
				{Number: 1, Role: rollout.RoleStable, ReplicaSet: "orders-api-64476c9df5", Images: []string{"ghcr.io/acme/orders:1.7.3"},
					Desired: 4, Current: 4, Ready: 4, Available: 4, CreatedAt: clock.Add(-20 * time.Minute), Pods: pods("orders-api-64476c9df5-", 4, true, nil)},
			},
		},
		{
			Kind: "Deployment", Namespace: "demo", Name: "payments-api", Phase: rollout.PhaseComplete,
			Why: "3/3 available on revision 1", CanaryRevision: 1, StartedAt: clock.Add(-3 * time.Hour),
			Replicas: rollout.Replicas{Desired: 3, Current: 3, Updated: 3, Ready: 3, Available: 3},
			Revisions: []rollout.Revision{
				{Number: 1, Role: rollout.RoleCanary, ReplicaSet: "payments-api-7bcfc8449", Images: []string{"ghcr.io/acme/payments:2.4.1"},
					Desired: 3, Current: 3, Ready: 3, Available: 3, CreatedAt: clock.Add(-3 * time.Hour), Pods: pods("payments-api-7bcfc8449-", 3, true, nil)},
			},
		},
	}
}
