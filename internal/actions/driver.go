// Package actions halts, promotes and rolls back rollouts (Deployments and Argo Rollouts):
// decided from what the API server holds now, written in requests that fail rather than
// overwrite a newer edit, and recorded on the object (annotation, change-cause, Event).
package actions

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// FieldManager names kubectl-pyroll's writes in managedFields.
const FieldManager = "kubectl-pyroll"

// ChangeCauseAnnotation is what `kubectl rollout history` shows per revision.
const ChangeCauseAnnotation = "kubernetes.io/change-cause"

// ErrChanged is intent.ErrChanged: Apply returns an *intent.ChangedError holding the plan
// as it would be decided now.
var ErrChanged = intent.ErrChanged

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
	// Owners reads a rollout's GitOps owner for the plan (what it will do to a halt or a
	// rollback); nil leaves the plan's Owner empty. Holding needs no reader.
	Owners *kube.OwnerReader
}

// Plan decides what the request would change, from the Deployment as it is now.
func (d *Driver) Plan(ctx context.Context, req intent.Request) (intent.Plan, error) {
	objs, err := d.read(ctx, req)
	if err != nil {
		return intent.Plan{}, err
	}
	plan, _, err := decide(req, objs, d.now())
	if err == nil && !plan.Noop {
		d.noteOwner(ctx, &plan, objs)
	}
	return plan, err
}

// writer sends a decided plan; it is made by the decision, with what it read.
type writer func(ctx context.Context, d *Driver, plan intent.Plan) (written, error)

// written is what a writer wrote to: the object the audit Event is about, and a warning
// when the action went through but its record did not.
type written struct {
	involved corev1.ObjectReference
	warning  string
}

// decide makes the plan for req against the rollout as read (what kube.ReadOne returns),
// and the writer that carries it out. It is pure: now is the caller's clock.
func decide(req intent.Request, objs rollout.Objects, now time.Time) (intent.Plan, writer, error) {
	switch req.Target.Kind {
	case ref.Deployment:
		return decideDeployment(req, objs, now)
	case ref.ArgoRollout:
		return decideArgo(req, objs, now)
	}
	return intent.Plan{}, nil, fmt.Errorf("%s %s: kubectl-pyroll cannot act on a %s", req.Action, req.Target, req.Target.Kind)
}

// read is the rollout as the API server holds it now (kube.ReadOne, as history and diff
// read it).
func (d *Driver) read(ctx context.Context, req intent.Request) (rollout.Objects, error) {
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
		fresh, write, err := decide(req, objs, d.now())
		if err != nil {
			return intent.Result{}, err
		}
		fresh.Owner = plan.Owner // advisory: a changed plan is asked again with the same note
		if !sameDecision(plan, fresh) {
			return intent.Result{}, &intent.ChangedError{Was: plan, Now: fresh}
		}
		if fresh.Noop {
			return intent.Result{Plan: fresh, At: d.now(), Message: fresh.Message}, nil
		}
		var held *heldOwner
		if req.HoldOwner {
			if held, err = d.holdOwner(ctx, fresh, objs); err != nil {
				return intent.Result{}, err
			}
			if held != nil {
				fresh.Held = safetext.Line(held.ref.String())
			}
		}
		if d.BeforeWrite != nil {
			d.BeforeWrite(ctx)
		}
		done, err := write(ctx, d, fresh)
		if err != nil {
			// Nothing of the action stays when its write fails: the hold it made goes too.
			if undoErr := d.undoHold(ctx, held); undoErr != nil {
				return intent.Result{}, fmt.Errorf("%w; and the hold it made could not be undone (%v): run kubectl pyroll release-hold %s -n %s", d.explain(req, err), undoErr, req.Target.Name, req.Target.Namespace)
			}
		}
		if apierrors.IsConflict(err) && attempt < 4 {
			continue // re-read and re-decide: never write what was computed from stale state
		}
		if err != nil {
			return intent.Result{}, d.explain(req, err)
		}
		result := intent.Result{Plan: fresh, At: d.now(), Message: doneMessage(fresh, d.DryRun), Warning: safetext.Line(done.warning)}
		if !d.DryRun {
			if err := d.recordEvent(ctx, fresh, done.involved); err != nil {
				result.Warning = "the audit Event was not recorded: " + safetext.Line(kubeapi.Message(err))
			}
			if held != nil && held.unconfirmed != "" && result.Warning == "" {
				result.Warning = safetext.Line(held.unconfirmed)
			}
			if held != nil && held.made {
				msg := fmt.Sprintf("Held by %s for the %s of %s/%s in %s", d.User, fresh.Action, fresh.Target.Kind.Arg(), fresh.Target.Name, fresh.Target.Namespace)
				if fresh.Reason != "" {
					msg += ": " + fresh.Reason
				}
				if err := d.createEvent(ctx, ownerReference(held.ref, nil), "PyrollHold", msg); err != nil && result.Warning == "" {
					result.Warning = "the hold's audit Event was not recorded: " + safetext.Line(kubeapi.Message(err))
				}
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

var eventReasons = map[intent.Action]string{
	intent.Halt: "PyrollHalt", intent.Promote: "PyrollPromote", intent.Rollback: "PyrollRollback",
	intent.PromoteFull: "PyrollPromoteFull", intent.Retry: "PyrollRetry",
}

// auditAnnotations are what an action records on the object: pyroll.dev/last-action, and
// for a guard's action pyroll.dev/guard-acted (the revision it acted on).
func (d *Driver) auditAnnotations(plan intent.Plan) (map[string]string, error) {
	at := d.now().UTC().Truncate(time.Second)
	record, err := json.Marshal(intent.LastAction{
		Action: plan.Action, User: d.User, Time: at, Reason: plan.Reason,
		From: plan.From.Revision, To: plan.To.Revision, Guard: plan.Guard, Held: string(plan.Held),
	})
	if err != nil {
		return nil, err
	}
	annotations := map[string]string{intent.LastActionAnnotation: string(record)}
	if plan.Guard != "" {
		acted, err := json.Marshal(intent.GuardActed{Revision: plan.From.Revision, Action: plan.Action, Guard: plan.Guard, Time: at})
		if err != nil {
			return nil, err
		}
		annotations[intent.GuardActedAnnotation] = string(acted)
	}
	return annotations, nil
}

func (d *Driver) dryRun() []string {
	if d.DryRun {
		return []string{metav1.DryRunAll}
	}
	return nil
}

func (d *Driver) recordEvent(ctx context.Context, plan intent.Plan, involved corev1.ObjectReference) error {
	message := fmt.Sprintf("%s by %s", capitalize(doneMessage(plan, false).String()), d.User)
	if plan.Held != "" {
		message += fmt.Sprintf(" (%s held first)", plan.Held)
	}
	if plan.Reason != "" {
		message += ": " + plan.Reason
	}
	return d.createEvent(ctx, involved, eventReasons[plan.Action], message)
}

func doneMessage(plan intent.Plan, dryRun bool) safetext.Text {
	var msg safetext.Text
	done := plan.Action.Done(plan.Target.Kind)
	switch plan.Action {
	case intent.Halt:
		msg = safetext.Sprintf("%s %s at rev %s", done, plan.Target.Name, revisionText(plan.From.Revision))
	case intent.Promote, intent.PromoteFull, intent.Retry:
		msg = safetext.Sprintf("%s %s: rolling out rev %s", done, plan.Target.Name, revisionText(plan.From.Revision))
	case intent.Rollback:
		msg = safetext.Sprintf("%s %s from rev %s to rev %d (%s)", done, plan.Target.Name, revisionText(plan.From.Revision), plan.To.Revision, describe(plan.To))
	}
	if dryRun {
		msg = "dry run (server-side, nothing changed): would have " + msg
	}
	return msg
}

// explain makes an API error one line that names the object and says what to do.
func (d *Driver) explain(req intent.Request, err error) error {
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s %q not found in namespace %q", req.Target.Kind.Arg(), req.Target.Name, req.Target.Namespace)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s %s/%s: forbidden: %s", req.Action, req.Target.Namespace, req.Target.Name, kubeapi.Message(err))
	}
	// An admission webhook, for one, may answer anything: the message is made safe here,
	// where the footer, the logs and the webhook document get it.
	return fmt.Errorf("%s %s/%s: %w", req.Action, req.Target.Namespace, req.Target.Name, safetext.Error(err))
}
