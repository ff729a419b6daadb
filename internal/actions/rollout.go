package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// decideArgo makes the plan for req against an Argo Rollout as read. The keys keep their
// meaning: halt aborts (traffic back to stable at once), promote is argo's promote (or a
// retry of an aborted rollout, which argo's own promote silently ignores), rollback is an
// undo to the stable revision's template, written with a resourceVersion precondition
// (argo's own undo has none).
func decideArgo(req intent.Request, objs rollout.Objects, now time.Time) (intent.Plan, writer, error) {
	ro := objs.Rollouts[0]
	view := rollout.Build(objs, now)[0]
	plan := intent.Plan{Request: req, ResourceVersion: ro.ResourceVersion}
	byRevision := map[int64]*appsv1.ReplicaSet{}
	var current *appsv1.ReplicaSet
	for _, rs := range objs.ReplicaSets {
		if n := argo.RevisionOf(rs); n > 0 {
			byRevision[n] = rs
		}
		if rs.Labels[argo.PodTemplateHashLabel] == ro.Status.CurrentPodHash {
			current = rs
		}
	}
	template := &ro.Spec.Template
	if current != nil {
		template = &current.Spec.Template // a workloadRef Rollout has no template of its own
	}
	plan.From = buildOf(view.CanaryRevision, template)
	plan.To = plan.From
	name, a := ro.Name, view.Argo
	where := ""
	if a.StepCount > 0 {
		where = fmt.Sprintf(" at step %d/%d (weight %d%%)", a.StepIndex, a.StepCount, a.ActualWeight)
	}
	var argoPlan argo.Plan
	switch req.Action {
	case intent.Halt:
		switch {
		case a.Aborted:
			plan.Noop, plan.Message = true, safetext.Sprintf("%s is already aborted", name)
			return plan, nil, nil
		case a.FullyPromoted:
			plan.Noop, plan.Message = true, safetext.Sprintf("%s has nothing to abort: rev %s is fully promoted", name, revisionText(view.CanaryRevision))
			return plan, nil, nil
		}
		argoPlan = argo.PlanAbort(ro)
		plan.Message = safetext.Sprintf("abort %s%s: traffic back to stable rev %s at once; retry (p) rolls rev %s out again",
			name, where, revisionText(view.StableRevision), revisionText(view.CanaryRevision))
	case intent.Promote:
		p, err := argo.PlanPromote(ro)
		switch {
		case errors.Is(err, argo.ErrAborted):
			plan.Action = intent.Retry
			return decideArgoRetry(plan, ro, view)
		case errors.Is(err, argo.ErrFullyPromoted), errors.Is(err, argo.ErrNothingToPromote):
			plan.Noop, plan.Message = true, safetext.Sprintf("%s: %v", name, err)
			return plan, nil, nil
		case err != nil:
			return plan, nil, fmt.Errorf("promote %s/%s: %w", ro.Namespace, name, err)
		}
		argoPlan = p
		plan.Message = safetext.Sprintf("promote %s%s: %s", name, where, p.Effect)
	case intent.PromoteFull:
		// On an aborted rollout a full promote lifts the abort (argo's controller does).
		p, err := argo.PlanPromoteFull(ro)
		switch {
		case errors.Is(err, argo.ErrFullyPromoted):
			plan.Noop, plan.Message = true, safetext.Sprintf("%s is fully promoted: nothing to promote", name)
			return plan, nil, nil
		case err != nil:
			return plan, nil, fmt.Errorf("promote %s/%s fully: %w", ro.Namespace, name, err)
		}
		argoPlan = p
		plan.Message = safetext.Sprintf("promote %s fully%s: skip the remaining steps, analysis and pauses; rev %s takes all traffic", name, where, revisionText(view.CanaryRevision))
	case intent.Retry:
		return decideArgoRetry(plan, ro, view)
	case intent.Rollback:
		return decideArgoUndo(plan, ro, view, byRevision, current)
	default:
		return plan, nil, fmt.Errorf("unknown action %q", req.Action)
	}
	plan.Decision = argoDecision(argoPlan)
	return plan, argoWriter(ro, argoPlan, nil), nil
}

func decideArgoRetry(plan intent.Plan, ro *argo.Rollout, view rollout.Rollout) (intent.Plan, writer, error) {
	p, err := argo.PlanRetry(ro)
	if errors.Is(err, argo.ErrNotAborted) {
		plan.Noop, plan.Message = true, safetext.Sprintf("%s is not aborted: nothing to retry", ro.Name)
		return plan, nil, nil
	}
	if err != nil {
		return plan, nil, fmt.Errorf("retry %s/%s: %w", ro.Namespace, ro.Name, err)
	}
	why := ""
	if msg := view.Argo.Message; msg != "" {
		why = " (" + msg.String() + ")"
	}
	plan.Decision = argoDecision(p)
	plan.Message = safetext.Sprintf("%s was aborted%s: retry rolls rev %s out again from the first step", ro.Name, why, revisionText(view.CanaryRevision))
	return plan, argoWriter(ro, p, nil), nil
}

func decideArgoUndo(plan intent.Plan, ro *argo.Rollout, view rollout.Rollout, byRevision map[int64]*appsv1.ReplicaSet, current *appsv1.ReplicaSet) (intent.Plan, writer, error) {
	if w := ro.Spec.WorkloadRef; w != nil {
		return plan, nil, fmt.Errorf("undo %s/%s: it takes its pod template from %s/%s (workloadRef): roll back that %s's template instead (kubectl-pyroll will not write a template the Rollout does not own)",
			ro.Namespace, ro.Name, strings.ToLower(w.Kind), w.Name, w.Kind)
	}
	targetRevision := plan.ToRevision
	if targetRevision == 0 {
		targetRevision = previousRevision(view)
	}
	if targetRevision == 0 {
		return plan, nil, fmt.Errorf("%s/%s has no previous revision to undo to", ro.Namespace, ro.Name)
	}
	target := byRevision[targetRevision]
	if target == nil {
		return plan, nil, fmt.Errorf("%s/%s has no revision %d (it has %s)", ro.Namespace, ro.Name, targetRevision, revisionList(byRevision))
	}
	plan.To = buildOf(targetRevision, &target.Spec.Template)
	if current != nil && current == target {
		plan.Noop, plan.Message = true, safetext.Sprintf("%s already runs rev %d", ro.Name, targetRevision)
		return plan, nil, nil
	}
	plan.Decision = templateMove(&ro.Spec.Template, &target.Spec.Template)
	plan.Message = safetext.Sprintf("undo %s from rev %s (%s) to rev %d (%s): rev %d's template becomes a new revision",
		ro.Name, revisionText(view.CanaryRevision), describe(plan.From), targetRevision, describe(plan.To), targetRevision)
	return plan, argoWriter(ro, argo.Plan{}, target), nil
}

// argoWriter sends an Argo plan's patches in order, then the audit annotation on the
// Rollout itself (the status subresource ignores metadata). The first write carries the
// resourceVersion the decision read: if the Rollout moved since, the API server refuses
// it and Apply decides again from a fresh read. The writes after it are the same
// decision's consequences (unpause the spec, record who did it): argo's controller writes
// the status as soon as the first one lands, so a precondition on them would fail the
// action half way for nothing; merge patches of their own fields, they overwrite no one.
// An undo (target set) is one JSON patch, guarded the same way.
func argoWriter(ro *argo.Rollout, p argo.Plan, target *appsv1.ReplicaSet) writer {
	return func(ctx context.Context, d *Driver, plan intent.Plan) (written, error) {
		done := written{involved: corev1.ObjectReference{APIVersion: argo.GroupVersion.String(), Kind: "Rollout", Namespace: ro.Namespace, Name: ro.Name, UID: ro.UID}}
		annotations, err := d.auditAnnotations(plan)
		if err != nil {
			return done, err
		}
		if target != nil {
			cause := fmt.Sprintf("kubectl-pyroll undo to rev %d by %s", plan.To.Revision, d.User)
			if plan.Reason != "" {
				cause += ": " + plan.Reason
			}
			annotations[ChangeCauseAnnotation] = cause
			return done, d.undoArgo(ctx, ro, target, annotations)
		}
		rollouts := d.Client.Rollouts(ro.Namespace)
		opts := metav1.PatchOptions{FieldManager: FieldManager, DryRun: d.dryRun()}
		annotated := false
		for i, patch := range p.Patches {
			body := patch.Body
			if i == len(p.Patches)-1 && patch.Subresource == "" {
				if body, err = withAnnotations(body, annotations); err != nil {
					return done, err
				}
				annotated = true
			}
			if i == 0 {
				if body, err = (argo.Patch{Body: body}).WithResourceVersion(ro.ResourceVersion); err != nil {
					return done, err
				}
			}
			var sub []string
			if patch.Subresource != "" {
				sub = []string{patch.Subresource}
			}
			if _, err := rollouts.Patch(ctx, ro.Name, types.MergePatchType, body, opts, sub...); err != nil {
				if i > 0 {
					return done, fmt.Errorf("%w (the first %d of %d writes went through: look at the rollout before retrying)", err, i, len(p.Patches))
				}
				return done, err
			}
		}
		if !annotated {
			body, err := withAnnotations([]byte("{}"), annotations)
			if err != nil {
				return done, err
			}
			if _, err := rollouts.Patch(ctx, ro.Name, types.MergePatchType, body, opts); err != nil {
				// The action is done; only its record is missing: say so rather than fail it.
				done.warning = "the audit annotation was not recorded: " + kubeapi.Message(err)
			}
		}
		return done, nil
	}
}

// withAnnotations adds annotations to a merge patch body (a JSON object).
func withAnnotations(body []byte, annotations map[string]string) ([]byte, error) {
	var patch map[string]any
	if err := json.Unmarshal(body, &patch); err != nil {
		return nil, fmt.Errorf("patch %s: %w", body, err)
	}
	meta, _ := patch["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["annotations"] = annotations
	patch["metadata"] = meta
	return json.Marshal(patch)
}

// undoArgo writes the target revision's template into the Rollout in one JSON patch: the
// resourceVersion replaced (so the API server refuses it if the Rollout moved) and
// spec.template replaced whole (a merge patch would keep labels and annotations the old
// template lacks), minus argo's pod template hash label; a halted Rollout is resumed.
func (d *Driver) undoArgo(ctx context.Context, ro *argo.Rollout, target *appsv1.ReplicaSet, annotations map[string]string) error {
	template := target.Spec.Template.DeepCopy()
	delete(template.Labels, argo.PodTemplateHashLabel)
	merged := map[string]string{}
	for k, v := range ro.Annotations {
		merged[k] = v
	}
	for k, v := range annotations {
		merged[k] = v
	}
	ops := []map[string]any{
		{"op": "replace", "path": "/metadata/resourceVersion", "value": ro.ResourceVersion},
		{"op": "add", "path": "/metadata/annotations", "value": merged},
		{"op": "replace", "path": "/spec/template", "value": template},
	}
	if ro.Spec.Paused {
		ops = append(ops, map[string]any{"op": "replace", "path": "/spec/paused", "value": false})
	}
	body, err := json.Marshal(ops)
	if err != nil {
		return err
	}
	_, err = d.Client.Rollouts(ro.Namespace).Patch(ctx, ro.Name, types.JSONPatchType, body, metav1.PatchOptions{FieldManager: FieldManager, DryRun: d.dryRun()})
	return err
}
