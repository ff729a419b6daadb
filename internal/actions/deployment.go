package actions

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// decideDeployment makes the plan for req against the Deployment and its ReplicaSets as
// read; a rollback's writer restores the chosen ReplicaSet's template.
func decideDeployment(req intent.Request, objs rollout.Objects, now time.Time) (intent.Plan, writer, error) {
	dep := objs.Deployments[0]
	plan := intent.Plan{Request: req, ResourceVersion: dep.ResourceVersion}
	view := rollout.Build(objs, now)[0]
	byRevision := map[int64]*appsv1.ReplicaSet{}
	for _, rs := range objs.ReplicaSets {
		if n := rollout.RevisionOf(rs); n > 0 {
			byRevision[n] = rs
		}
	}
	current := byRevision[view.CanaryRevision]
	plan.From = buildOf(view.CanaryRevision, &dep.Spec.Template)
	name := dep.Name
	switch req.Action {
	case intent.Halt:
		if dep.Spec.Paused {
			plan.Noop, plan.Message = true, safetext.Sprintf("%s is already halted", name)
			return plan, nil, nil
		}
		plan.To = plan.From
		plan.Message = safetext.Sprintf("halt %s at rev %s (%d/%d pods updated); promote resumes it", name, revisionText(view.CanaryRevision), view.Replicas.Updated, view.Replicas.Desired)
	case intent.Promote:
		if !dep.Spec.Paused {
			plan.Noop, plan.Message = true, safetext.Sprintf("%s is not halted: nothing to promote", name)
			return plan, nil, nil
		}
		plan.To = plan.From
		plan.Message = safetext.Sprintf("promote %s: resume the rollout to rev %s (%s)", name, revisionText(view.CanaryRevision), describe(plan.From))
	case intent.Rollback:
		targetRevision := req.ToRevision
		if targetRevision == 0 {
			targetRevision = previousRevision(view)
		}
		if targetRevision == 0 {
			return plan, nil, fmt.Errorf("%s/%s has no previous revision to roll back to", dep.Namespace, name)
		}
		target := byRevision[targetRevision]
		if target == nil {
			return plan, nil, fmt.Errorf("%s/%s has no revision %d (it has %s)", dep.Namespace, name, targetRevision, revisionList(byRevision))
		}
		plan.To = buildOf(targetRevision, &target.Spec.Template)
		if current != nil && current == target {
			plan.Noop, plan.Message = true, safetext.Sprintf("%s already runs rev %d", name, targetRevision)
			return plan, nil, nil
		}
		plan.Decision = templateMove(&dep.Spec.Template, &target.Spec.Template)
		plan.Message = safetext.Sprintf("roll back %s from rev %s (%s) to rev %d (%s)", name, revisionText(view.CanaryRevision), describe(plan.From), targetRevision, describe(plan.To))
		if dep.Spec.Paused {
			plan.Message += "; resumes it"
		}
		return plan, deploymentWriter(dep, target), nil
	case intent.PromoteFull, intent.Retry:
		return plan, nil, fmt.Errorf("%s %s/%s: a Deployment has no steps to skip or abort to retry (promote resumes it)", req.Action, dep.Namespace, name)
	default:
		return plan, nil, fmt.Errorf("unknown action %q", req.Action)
	}
	return plan, deploymentWriter(dep, nil), nil
}

// previousRevision is the stable revision (the newest older one still serving), else the
// previous known-good (a completed rollout's stable revision is the current one: the
// newest older revision a guard did not act on is the target; rollout.PreviousRevision).
func previousRevision(view rollout.Rollout) int64 {
	return view.PreviousRevision()
}

func sameDecision(a, b intent.Plan) bool {
	return a.Noop == b.Noop && a.Action == b.Action && a.From == b.From && a.To == b.To && a.Decision == b.Decision
}

// deploymentWriter writes a Deployment's plan: target is the ReplicaSet a rollback restores.
func deploymentWriter(dep *appsv1.Deployment, target *appsv1.ReplicaSet) writer {
	return func(ctx context.Context, d *Driver, plan intent.Plan) (written, error) {
		involved := corev1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: dep.Namespace, Name: dep.Name, UID: dep.UID}
		return written{involved: involved}, d.writeDeployment(ctx, plan, dep, target)
	}
}

func (d *Driver) writeDeployment(ctx context.Context, plan intent.Plan, dep *appsv1.Deployment, target *appsv1.ReplicaSet) error {
	annotations, err := d.auditAnnotations(plan)
	if err != nil {
		return err
	}
	dryRun := d.dryRun()
	deployments := d.Client.Deployments(dep.Namespace)
	switch plan.Action {
	case intent.Halt, intent.Promote:
		patch, err := json.Marshal(map[string]any{
			"metadata": map[string]any{
				"resourceVersion": dep.ResourceVersion, // precondition: conflict if it moved
				"annotations":     annotations,
			},
			"spec": map[string]any{"paused": plan.Action == intent.Halt},
		})
		if err != nil {
			return err
		}
		_, err = deployments.Patch(ctx, dep.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: FieldManager, DryRun: dryRun})
		return err
	case intent.Rollback:
		// What `kubectl rollout undo` does, in one request guarded by resourceVersion, and
		// resuming a paused Deployment in the same write.
		updated := dep.DeepCopy()
		updated.Spec.Template = *target.Spec.Template.DeepCopy()
		delete(updated.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
		updated.Spec.Paused = false
		if updated.Annotations == nil {
			updated.Annotations = map[string]string{}
		}
		maps.Copy(updated.Annotations, annotations)
		cause := fmt.Sprintf("kubectl-pyroll rollback to rev %d by %s", plan.To.Revision, d.User)
		if plan.Reason != "" {
			cause += ": " + plan.Reason
		}
		updated.Annotations[ChangeCauseAnnotation] = cause
		_, err := deployments.Update(ctx, updated, metav1.UpdateOptions{FieldManager: FieldManager, DryRun: dryRun})
		return err
	}
	return fmt.Errorf("unknown action %q", plan.Action)
}

func buildOf(revision int64, t *corev1.PodTemplateSpec) intent.Build {
	p := provenance.FromTemplate(t, nil)
	b := intent.Build{Revision: revision, GitSHA: p.GitSHA, Version: p.Version, LockHash: p.LockHash}
	if len(p.Images) > 0 {
		b.Image = p.Images[0].Ref
	}
	return b
}

// describe is "sha 3f2a9c1, ghcr.io/acme/orders:1.8.0, lock sha256:7a6b5c4d".
func describe(b intent.Build) string {
	var parts []safetext.Text
	if b.GitSHA != "" {
		parts = append(parts, "sha "+shortSHA(b.GitSHA))
	}
	if b.Image != "" {
		parts = append(parts, b.Image)
	}
	if b.LockHash != "" {
		parts = append(parts, "lock "+b.LockHash)
	}
	if len(parts) == 0 {
		return "unknown build"
	}
	return string(safetext.Join(parts, ", "))
}

func shortSHA[S ~string](sha S) S {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func revisionText(n int64) string {
	if n == 0 {
		return "?"
	}
	return fmt.Sprint(n)
}

func revisionList(byRevision map[int64]*appsv1.ReplicaSet) string {
	nums := make([]int64, 0, len(byRevision))
	for n := range byRevision {
		nums = append(nums, n)
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	parts := make([]string, len(nums))
	for i, n := range nums {
		parts[i] = fmt.Sprint(n)
	}
	if len(parts) == 0 {
		return "none"
	}
	return "revisions " + strings.Join(parts, ", ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
