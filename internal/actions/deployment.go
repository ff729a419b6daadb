// Package actions halts, promotes and rolls back rollouts: decided from what the API
// server holds now, written in one request that fails rather than overwrite a newer edit,
// and recorded on the object (annotation, change-cause, Event).
package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// FieldManager names kubectl-pyroll's writes in managedFields.
const FieldManager = "kubectl-pyroll"

// ChangeCauseAnnotation is what `kubectl rollout history` shows per revision.
const ChangeCauseAnnotation = "kubernetes.io/change-cause"

// ErrChanged means the Deployment changed after the plan was made, so that the plan no
// longer holds; nothing was written.
var ErrChanged = errors.New("changed since the plan was made")

// Driver acts on Deployments.
type Driver struct {
	Client kubeapi.API
	// User is who acts, for the audit record (SelfSubjectReview, or the kubeconfig's user).
	User string
	Now  func() time.Time
	// DryRun makes the API server check the write without persisting it.
	DryRun bool
	// BeforeWrite, when set, runs between Apply's read and its write: end-to-end tests
	// edit the object there to prove the write is guarded by resourceVersion.
	BeforeWrite func(ctx context.Context)
}

// Plan decides what the request would change, from the Deployment as it is now.
func (d *Driver) Plan(ctx context.Context, req intent.Request) (intent.Plan, error) {
	objs, err := d.read(ctx, req)
	if err != nil {
		return intent.Plan{}, err
	}
	plan, _, err := decide(req, objs, d.now())
	return plan, err
}

// read is the rollout as the API server holds it now (kube.ReadOne, as history and diff
// read it).
func (d *Driver) read(ctx context.Context, req intent.Request) (rollout.Objects, error) {
	if req.Target.Kind != ref.Deployment {
		return rollout.Objects{}, fmt.Errorf("%s %s: only Deployments can be acted on", req.Action, req.Target)
	}
	objs, err := kube.ReadOne(ctx, d.Client, req.Target)
	if err != nil {
		return rollout.Objects{}, d.explain(req, err)
	}
	return objs, nil
}

// Apply carries out a plan. The Deployment is read again and the decision re-made: if it
// no longer matches the plan (someone edited the Deployment, another rollback ran), it
// stops with ErrChanged and writes nothing; otherwise it writes with the fresh
// resourceVersion as precondition, retrying the whole read-decide-write on a conflict.
func (d *Driver) Apply(ctx context.Context, plan intent.Plan) (intent.Result, error) {
	req := plan.Request
	for attempt := 0; ; attempt++ {
		objs, err := d.read(ctx, req)
		if err != nil {
			return intent.Result{}, err
		}
		dep := objs.Deployments[0]
		fresh, target, err := decide(req, objs, d.now())
		if err != nil {
			return intent.Result{}, err
		}
		if !sameDecision(plan, fresh) {
			return intent.Result{}, fmt.Errorf("%s/%s %w: now %s; look again and retry", req.Target.Namespace, req.Target.Name, ErrChanged, fresh.Message)
		}
		if fresh.Noop {
			return intent.Result{Plan: fresh, At: d.now(), Message: fresh.Message}, nil
		}
		if d.BeforeWrite != nil {
			d.BeforeWrite(ctx)
		}
		err = d.write(ctx, fresh, dep, target)
		if apierrors.IsConflict(err) && attempt < 4 {
			continue // re-read and re-decide: never write what was computed from stale state
		}
		if err != nil {
			return intent.Result{}, d.explain(req, err)
		}
		result := intent.Result{Plan: fresh, At: d.now(), Message: doneMessage(fresh, d.DryRun)}
		if !d.DryRun {
			if err := d.recordEvent(ctx, fresh, dep); err != nil {
				result.Warning = "the audit Event was not recorded: " + kubeapi.Message(err)
			}
		}
		return result, nil
	}
}

// Do plans and applies at once: the emergency brake and scripts with --yes.
func (d *Driver) Do(ctx context.Context, req intent.Request) (intent.Result, error) {
	plan, err := d.Plan(ctx, req)
	if err != nil {
		return intent.Result{}, err
	}
	return d.Apply(ctx, plan)
}

func (d *Driver) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// decide makes the plan for req against the Deployment and its ReplicaSets as read (one
// Deployment: what kube.ReadOne returns), and for a rollback returns the ReplicaSet
// whose template it restores. It is pure: now is the caller's clock.
func decide(req intent.Request, objs rollout.Objects, now time.Time) (intent.Plan, *appsv1.ReplicaSet, error) {
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
			plan.Noop, plan.Message = true, fmt.Sprintf("%s is already halted", name)
			return plan, nil, nil
		}
		plan.To = plan.From
		plan.Message = fmt.Sprintf("halt %s at rev %s (%d/%d pods updated); promote resumes it", name, revisionText(view.CanaryRevision), view.Replicas.Updated, view.Replicas.Desired)
	case intent.Promote:
		if !dep.Spec.Paused {
			plan.Noop, plan.Message = true, fmt.Sprintf("%s is not halted: nothing to promote", name)
			return plan, nil, nil
		}
		plan.To = plan.From
		plan.Message = fmt.Sprintf("promote %s: resume the rollout to rev %s (%s)", name, revisionText(view.CanaryRevision), describe(plan.From))
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
			plan.Noop, plan.Message = true, fmt.Sprintf("%s already runs rev %d", name, targetRevision)
			return plan, nil, nil
		}
		plan.Message = fmt.Sprintf("roll back %s from rev %s (%s) to rev %d (%s)", name, revisionText(view.CanaryRevision), describe(plan.From), targetRevision, describe(plan.To))
		if dep.Spec.Paused {
			plan.Message += "; resumes it"
		}
		return plan, target, nil
	default:
		return plan, nil, fmt.Errorf("unknown action %q", req.Action)
	}
	return plan, nil, nil
}

// previousRevision is the stable revision (the newest older one still serving), else the
// newest revision older than the current one.
func previousRevision(view rollout.Rollout) int64 {
	if view.StableRevision > 0 {
		return view.StableRevision
	}
	var best int64
	for _, rev := range view.Revisions {
		if rev.Number > best && (view.CanaryRevision == 0 || rev.Number < view.CanaryRevision) {
			best = rev.Number
		}
	}
	return best
}

func sameDecision(a, b intent.Plan) bool {
	return a.Noop == b.Noop && a.From == b.From && a.To == b.To
}

func (d *Driver) write(ctx context.Context, plan intent.Plan, dep *appsv1.Deployment, target *appsv1.ReplicaSet) error {
	record, err := json.Marshal(intent.LastAction{
		Action: plan.Action, User: d.User, Time: d.now().UTC().Truncate(time.Second), Reason: plan.Reason,
		From: plan.From.Revision, To: plan.To.Revision,
	})
	if err != nil {
		return err
	}
	var dryRun []string
	if d.DryRun {
		dryRun = []string{metav1.DryRunAll}
	}
	deployments := d.Client.Deployments(dep.Namespace)
	switch plan.Action {
	case intent.Halt, intent.Promote:
		patch, err := json.Marshal(map[string]any{
			"metadata": map[string]any{
				"resourceVersion": dep.ResourceVersion, // precondition: conflict if it moved
				"annotations":     map[string]string{intent.LastActionAnnotation: string(record)},
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
		updated.Annotations[intent.LastActionAnnotation] = string(record)
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

var eventReasons = map[intent.Action]string{intent.Halt: "PyrollHalt", intent.Promote: "PyrollPromote", intent.Rollback: "PyrollRollback"}

func (d *Driver) recordEvent(ctx context.Context, plan intent.Plan, dep *appsv1.Deployment) error {
	now := metav1.NewTime(d.now())
	message := fmt.Sprintf("%s by %s", capitalize(doneMessage(plan, false)), d.User)
	if plan.Reason != "" {
		message += ": " + plan.Reason
	}
	_, err := d.Client.Events(dep.Namespace).Create(ctx, &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: dep.Name + ".pyroll-", Namespace: dep.Namespace},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: "apps/v1", Kind: "Deployment", Namespace: dep.Namespace, Name: dep.Name, UID: dep.UID,
		},
		Reason: eventReasons[plan.Action], Message: message, Type: corev1.EventTypeNormal,
		Source:         corev1.EventSource{Component: FieldManager},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: "pyroll.dev/kubectl-pyroll", ReportingInstance: d.User,
	}, metav1.CreateOptions{FieldManager: FieldManager})
	return err
}

func doneMessage(plan intent.Plan, dryRun bool) string {
	var msg string
	switch plan.Action {
	case intent.Halt:
		msg = fmt.Sprintf("halted %s at rev %s", plan.Target.Name, revisionText(plan.From.Revision))
	case intent.Promote:
		msg = fmt.Sprintf("promoted %s: rolling out rev %s", plan.Target.Name, revisionText(plan.From.Revision))
	case intent.Rollback:
		msg = fmt.Sprintf("rolled back %s from rev %s to rev %d (%s)", plan.Target.Name, revisionText(plan.From.Revision), plan.To.Revision, describe(plan.To))
	}
	if dryRun {
		msg = "dry run (server-side, nothing changed): would have " + msg
	}
	return msg
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
	var parts []string
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
	return strings.Join(parts, ", ")
}

func shortSHA(sha string) string {
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

// explain makes an API error one line that names the object and says what to do.
func (d *Driver) explain(req intent.Request, err error) error {
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s %q not found in namespace %q", req.Target.Kind.Arg(), req.Target.Name, req.Target.Namespace)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s %s/%s: forbidden: %s", req.Action, req.Target.Namespace, req.Target.Name, kubeapi.Message(err))
	}
	return fmt.Errorf("%s %s/%s: %w", req.Action, req.Target.Namespace, req.Target.Name, err)
}
