package actions

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kube"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// A rollout applied by Argo CD, Flux or Helm is written by them too: what a halt or a
// rollback writes may be put back seconds later. The plan says so (intent.OwnerNote), and
// a request with HoldOwner holds the owner first (Argo CD auto-sync off, Flux suspended),
// in the same action: if the rollout's write then fails, the hold is undone, so a failed
// action changes nothing.

// liveObject is the rollout's object as read for the plan, with its pod template.
func liveObject(objs rollout.Objects, kind ref.Kind) (metav1.Object, *corev1.PodTemplateSpec) {
	switch {
	case kind == ref.Deployment && len(objs.Deployments) == 1:
		d := objs.Deployments[0]
		return d, &d.Spec.Template
	case kind == ref.ArgoRollout && len(objs.Rollouts) == 1:
		r := objs.Rollouts[0]
		return r, &r.Spec.Template
	}
	return nil, nil
}

// detectOwner is who else writes the rollout read, nil when nobody does.
func detectOwner(objs rollout.Objects, kind ref.Kind) (*owner.Detection, metav1.Object, *corev1.PodTemplateSpec) {
	obj, template := liveObject(objs, kind)
	if obj == nil {
		return nil, nil, nil
	}
	d := owner.Detect(kind, obj, owner.Options{})
	if d.Owner == nil {
		return nil, obj, template
	}
	return &d, obj, template
}

// noteOwner says in the plan what the rollout's owner will do to a halt or a rollback.
func (d *Driver) noteOwner(ctx context.Context, plan *intent.Plan, objs rollout.Objects) {
	if d.Owners == nil || (plan.Action != intent.Halt && plan.Action != intent.Rollback) {
		return
	}
	det, obj, template := detectOwner(objs, plan.Target.Kind)
	if det == nil {
		return
	}
	view := d.Owners.Read(ctx, *det, kube.OwnerTarget{Kind: plan.Target.Kind, Object: obj, Template: template})
	back := string(plan.From.Version)
	if back == "" {
		back = string(plan.From.Image)
	}
	if back == "" && plan.From.Revision > 0 {
		back = fmt.Sprintf("revision %d", plan.From.Revision)
	}
	e := view.Effect(plan.Target.Kind, plan.Action, back)
	plan.Owner = intent.OwnerNote{
		Who: safetext.Line(view.Ref.String()), Reverts: e.Reverts.Answer(), Text: e.Text,
		Conflicts: e.Conflicts == owner.Yes, Holdable: e.Holdable, HoldWords: holdWords(view.Ref),
	}
}

// holdWords is what holding that owner does, in the question's words.
func holdWords(r owner.Ref) string {
	switch r.Kind {
	case owner.KindApplication:
		return "hold auto-sync"
	case owner.KindKustomization, owner.KindHelmRelease:
		return "suspend it"
	}
	return ""
}

// heldOwner is a hold Apply made, to record and, if the write fails, to undo.
type heldOwner struct {
	ref owner.Ref
	// made: this action put the hold on (false when ours was already there: then a failed
	// write leaves it).
	made bool
	// unconfirmed says why the owner may not have taken the hold in yet ("" when it did).
	unconfirmed string
}

// holdOwner holds the owner of the rollout read in objs, before the rollout's write: nil
// when it has none, or nothing to hold (Helm; auto-sync off; suspended by someone else).
func (d *Driver) holdOwner(ctx context.Context, plan intent.Plan, objs rollout.Objects) (*heldOwner, error) {
	det, _, _ := detectOwner(objs, plan.Target.Kind)
	if det == nil || det.Owner.Resource().Resource == "" {
		return nil, nil
	}
	r := *det.Owner
	// The owner's controller writes its status all the time (Flux at every reconcile): a
	// hold that found it changed is decided again on a fresh read, a few times, as the
	// rollout's own write is on a conflict; the patch's test of the resourceVersion keeps
	// a hold from overwriting what it did not read.
	var held *unstructured.Unstructured
	var outcome *heldOwner
	err := retry.OnError(retry.DefaultRetry, ownerChanged, func() error {
		outcome = nil
		obj, err := d.Client.GetCustom(ctx, r.Resource(), r.Namespace, r.Name)
		if err != nil {
			return fmt.Errorf("hold %s before the %s: %s", r, plan.Action, kubeapi.Message(err))
		}
		// Hold only what would undo this action: Argo CD leaves a halt alone, whatever its policy.
		var view owner.View
		if r.Kind == owner.KindApplication {
			view = owner.FromApplication(*det, obj)
		} else {
			view = owner.FromFlux(*det, obj)
		}
		if view.Effect(plan.Target.Kind, plan.Action, "").Reverts != owner.Yes && view.Held == nil {
			return nil
		}
		rec := owner.HoldRecord{By: d.User, At: d.now().UTC().Truncate(time.Second), Reason: plan.Reason,
			Rollout: fmt.Sprintf("%s/%s in %s", plan.Target.Kind.Arg(), plan.Target.Name, plan.Target.Namespace)}
		var patch owner.Patch
		if r.Kind == owner.KindApplication {
			patch, err = owner.HoldApplication(obj, rec)
		} else {
			patch, err = owner.HoldFlux(obj, rec)
		}
		switch {
		case errors.Is(err, owner.ErrAlreadyHeld):
			outcome = &heldOwner{ref: r}
			return nil
		case errors.Is(err, owner.ErrNothingToHold):
			return nil
		case err != nil:
			return fmt.Errorf("hold %s: %w", r, err)
		}
		held, err = d.Client.PatchCustom(ctx, patch.Resource, patch.Namespace, patch.Name, patch.Type, patch.Data, metav1.PatchOptions{FieldManager: FieldManager, DryRun: d.dryRun()})
		return err
	})
	switch {
	case ownerChanged(err):
		return nil, fmt.Errorf("hold %s: it kept changing while being held (%s); nothing was written: try again", r, kubeapi.Message(err))
	case err != nil && !isAPIError(err): // ours, said already
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("hold %s before the %s: %s", r, plan.Action, kubeapi.Message(err))
	case held == nil: // nothing to hold, or ours already there
		return outcome, nil
	}
	h := &heldOwner{ref: r, made: true}
	if r.Kind != owner.KindApplication && !d.DryRun {
		h.unconfirmed = d.waitSuspended(ctx, r, held.GetGeneration())
	}
	return h, nil
}

// fluxSettle is how long a hold waits for Flux to take its suspension in. A reconcile that
// began before the suspension still applies Git's version when it ends (seen here: the
// rollback written a moment after the suspension was overwritten at once); the next one
// sees the suspension and stops, and Flux records the generation it saw.
const fluxSettle = 20 * time.Second

// waitSuspended waits until Flux has seen the suspension (status.observedGeneration at
// least generation), at most fluxSettle; it says so when Flux did not confirm it.
func (d *Driver) waitSuspended(ctx context.Context, r owner.Ref, generation int64) string {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, fluxSettle, true, func(ctx context.Context) (bool, error) {
		obj, err := d.Client.GetCustom(ctx, r.Resource(), r.Namespace, r.Name)
		if err != nil {
			last = kubeapi.Message(err)
			return false, nil
		}
		observed, _, _ := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
		last = fmt.Sprintf("it has seen generation %d of %d", observed, generation)
		return observed >= generation, nil
	})
	if err != nil {
		return fmt.Sprintf("Flux did not confirm the suspension of %s within %s (%s): a reconcile under way may still apply Git's version once", r, fluxSettle, last)
	}
	return ""
}

// undoHold gives back a hold this action made, after its rollout write failed.
func (d *Driver) undoHold(ctx context.Context, held *heldOwner) error {
	if held == nil || !held.made || d.DryRun {
		return nil
	}
	_, err := d.releaseOwner(ctx, held.ref)
	return err
}

// releaseOwner restores what a hold changed on the owner object (Argo CD's sync policy as
// it was, Flux resumed), refusing when the owner changed since the hold.
func (d *Driver) releaseOwner(ctx context.Context, r owner.Ref) (*unstructured.Unstructured, error) {
	// Read again and decide again when the owner's controller wrote it meanwhile (as the
	// hold does): the patch tests the resourceVersion it was computed from.
	var released *unstructured.Unstructured
	err := retry.OnError(retry.DefaultRetry, ownerChanged, func() error {
		obj, err := d.Client.GetCustom(ctx, r.Resource(), r.Namespace, r.Name)
		if err != nil {
			return fmt.Errorf("release %s: %s", r, kubeapi.Message(err))
		}
		var patch owner.Patch
		if r.Kind == owner.KindApplication {
			patch, err = owner.ReleaseApplication(obj)
		} else {
			patch, err = owner.ReleaseFlux(obj)
		}
		if err != nil {
			return fmt.Errorf("release %s: %w", r, err)
		}
		if _, err := d.Client.PatchCustom(ctx, patch.Resource, patch.Namespace, patch.Name, patch.Type, patch.Data, metav1.PatchOptions{FieldManager: FieldManager, DryRun: d.dryRun()}); err != nil {
			return err
		}
		released = obj
		return nil
	})
	switch {
	case ownerChanged(err):
		return nil, fmt.Errorf("release %s: it kept changing while being released (%s): %w", r, kubeapi.Message(err), owner.ErrChanged)
	case err != nil && isAPIError(err):
		return nil, fmt.Errorf("release %s: %s", r, kubeapi.Message(err))
	case err != nil:
		return nil, err
	}
	return released, nil
}

// ownerReference names an owner object for an Event about it.
func ownerReference(r owner.Ref, obj *unstructured.Unstructured) corev1.ObjectReference {
	gvr := r.Resource()
	ref := corev1.ObjectReference{APIVersion: schema.GroupVersion{Group: gvr.Group, Version: gvr.Version}.String(), Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
	if obj != nil {
		ref.UID, ref.ResourceVersion = obj.GetUID(), obj.GetResourceVersion()
	}
	return ref
}

// createEvent puts an Event on the owner object: its own history says who held or
// released it and for which rollout.
func (d *Driver) createEvent(ctx context.Context, involved corev1.ObjectReference, reason, message string) error {
	now := metav1.NewTime(d.now())
	_, err := d.Client.Events(involved.Namespace).Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{GenerateName: involved.Name + ".pyroll-", Namespace: involved.Namespace},
		InvolvedObject: involved,
		Reason:         reason, Message: message, Type: corev1.EventTypeNormal,
		Source:         corev1.EventSource{Component: FieldManager},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: "pyroll.dev/kubectl-pyroll", ReportingInstance: d.User,
	}, metav1.CreateOptions{FieldManager: FieldManager})
	return err
}

// ErrNothingHeld: release-hold found no hold of kubectl-pyroll's on the rollout's owner.
var ErrNothingHeld = errors.New("nothing held")

// ReleaseHold gives the rollout's GitOps owner back: Argo CD's automated sync policy as it
// was before the hold, a Flux Kustomization or HelmRelease resumed, or for Helm the field
// manager kubectl-pyroll's ownership of what it wrote dropped (so the next helm upgrade
// applies cleanly). It refuses (owner.ErrChanged) when the owner changed since the hold,
// and returns ErrNothingHeld when there is no hold of ours.
// The message is the one line for the footer or the terminal.
func (d *Driver) ReleaseHold(ctx context.Context, target ref.Rollout, reason string) (safetext.Text, error) {
	req := intent.Request{Action: intent.ReleaseHold, Target: target, Reason: reason}
	objs, err := d.read(ctx, req)
	if err != nil {
		return "", err
	}
	det, obj, _ := detectOwner(objs, target.Kind)
	if det == nil {
		return "", fmt.Errorf("%s %s/%s names no GitOps owner (Argo CD, Flux, Helm): %w", target.Kind.Arg(), target.Namespace, target.Name, ErrNothingHeld)
	}
	r := *det.Owner
	who := safetext.Line(r.String())
	var involved corev1.ObjectReference
	var done safetext.Text
	if r.Kind == owner.KindRelease {
		if err := d.releaseHelm(ctx, target, obj); err != nil {
			return "", err
		}
		done = safetext.Sprintf("released %s: kubectl-pyroll's fields given back to %s; the next helm upgrade applies cleanly (the fix belongs in the chart's values)", target.Name, who)
	} else {
		released, err := d.releaseOwner(ctx, r)
		if errors.Is(err, owner.ErrNotHeld) {
			return "", fmt.Errorf("%s is not held by kubectl-pyroll: %w", who, ErrNothingHeld)
		}
		if err != nil {
			return "", err
		}
		involved = ownerReference(r, released)
		what := "auto-sync restored as it was before the hold"
		if r.Kind != owner.KindApplication {
			what = "resumed"
		}
		done = safetext.Sprintf("released %s: %s; it applies Git's version again at its next sync", who, what)
	}
	if d.DryRun {
		return "dry run (server-side, nothing changed): would have " + done, nil
	}
	msg := fmt.Sprintf("Hold released by %s for %s/%s in %s", d.User, target.Kind.Arg(), target.Name, target.Namespace)
	if reason != "" {
		msg += ": " + reason
	}
	result := done
	if involved.Name != "" {
		if err := d.createEvent(ctx, involved, "PyrollReleaseHold", msg); err != nil {
			result += safetext.Line("; warning: the audit Event was not recorded: " + kubeapi.Message(err))
		}
	}
	if err := d.createEvent(ctx, rolloutReference(target, obj), "PyrollReleaseHold", msg); err != nil {
		result += safetext.Line("; warning: the audit Event was not recorded: " + kubeapi.Message(err))
	}
	return result, nil
}

// releaseHelm drops kubectl-pyroll's managedFields entries from the rollout object.
func (d *Driver) releaseHelm(ctx context.Context, target ref.Rollout, obj metav1.Object) error {
	res := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	if target.Kind == ref.ArgoRollout {
		res = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "rollouts"}
	}
	patch, err := owner.ReleaseHelm(res, obj)
	if errors.Is(err, owner.ErrNotHeld) {
		return fmt.Errorf("%s/%s: kubectl-pyroll owns none of its fields: %w", target.Namespace, target.Name, ErrNothingHeld)
	}
	if err != nil {
		return err
	}
	opts := metav1.PatchOptions{FieldManager: FieldManager, DryRun: d.dryRun()}
	if target.Kind == ref.ArgoRollout {
		_, err = d.Client.Rollouts(target.Namespace).Patch(ctx, target.Name, patch.Type, patch.Data, opts)
	} else {
		_, err = d.Client.Deployments(target.Namespace).Patch(ctx, target.Name, patch.Type, patch.Data, opts)
	}
	if apierrors.IsInvalid(err) || apierrors.IsConflict(err) {
		return fmt.Errorf("release-hold %s/%s: it changed while being released (%s); nothing was written: try again", target.Namespace, target.Name, kubeapi.Message(err))
	}
	if err != nil {
		return fmt.Errorf("release-hold %s/%s: %s", target.Namespace, target.Name, kubeapi.Message(err))
	}
	return nil
}

// rolloutReference names the rollout object for an Event about it.
func rolloutReference(target ref.Rollout, obj metav1.Object) corev1.ObjectReference {
	r := corev1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Namespace: target.Namespace, Name: target.Name}
	if target.Kind == ref.ArgoRollout {
		r.APIVersion, r.Kind = "argoproj.io/v1alpha1", "Rollout"
	}
	if obj != nil {
		r.UID, r.ResourceVersion = obj.GetUID(), obj.GetResourceVersion()
	}
	return r
}

// ownerChanged: the hold's patch found the owner changed since it was read (its test of the
// resourceVersion failed, or a conflict).
func ownerChanged(err error) bool { return apierrors.IsInvalid(err) || apierrors.IsConflict(err) }

// isAPIError says whether err is the API server's answer (not one of ours).
func isAPIError(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status)
}
