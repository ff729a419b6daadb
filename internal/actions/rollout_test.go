package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stypes "k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout/rollouttest"
)

var rolloutsGVR = argo.GroupVersion.WithResource("rollouts")

// argoCluster is a cluster serving one Argo Rollout (team-0/checkout-000, canary paused at
// step 1 of 4, revision 2 on 1 of 5 pods over stable revision 1) with its ReplicaSets,
// pods and AnalysisRun, whose rollouts refuse what the API server would refuse and move
// as argo's controller moves them (guardRollouts).
type argoCluster struct {
	client  *fake.Clientset
	api     *kubeapitest.ArgoAPI
	rollout *argo.Rollout // as first stored
	stable  *appsv1.ReplicaSet

	mu      sync.Mutex
	patches []k8stesting.PatchActionImpl // every rollouts patch sent, accepted or not
	rv      int                          // the last resourceVersion the server gave
}

// newArgoCluster builds the cluster; mutate edits the Rollout before it is stored.
func newArgoCluster(t *testing.T, mutate func(*argo.Rollout)) *argoCluster {
	t.Helper()
	objs := rollouttest.SyntheticArgo(1, 5)
	ro := objs.Rollouts[0]
	if mutate != nil {
		mutate(ro)
	}
	var core []runtime.Object
	c := &argoCluster{rollout: ro, rv: 777}
	for _, rs := range objs.ReplicaSets {
		core = append(core, rs)
		if rs.Labels[argo.PodTemplateHashLabel] == ro.Status.StableRS {
			c.stable = rs
		}
	}
	for _, p := range objs.Pods {
		core = append(core, p)
	}
	var tracked []runtime.Object
	tracked = append(tracked, ro)
	for _, run := range objs.AnalysisRuns {
		tracked = append(tracked, run)
	}
	c.client = fake.NewClientset(core...)
	c.api = kubeapitest.WithArgo(kubeapitest.FromClientset(c.client), tracked...)
	c.guardRollouts()
	return c
}

// guardRollouts makes the Rollouts behave as the API server and argo's controller do,
// which an object tracker does not:
//   - a patch with a stale resourceVersion precondition is a Conflict;
//   - every accepted write gives the Rollout a new resourceVersion;
//   - argo's controller writes the status as soon as a status patch lands (here: at once,
//     a new resourceVersion), so a later write guarded by the first one's answer would
//     conflict for nothing;
//   - the driver's contract: the first write after each read of the Rollout carries the
//     resourceVersion read (writes that follow it, the same decision's consequences, may
//     go without). A first write without one is refused (422): dropping the precondition
//     must not go unnoticed.
func (c *argoCluster) guardRollouts() {
	tracker := c.api.Fake.ReactionChain[0] // WithArgo's object tracker
	read := false                          // the Rollout was read since the last guarded write
	c.api.Fake.PrependReactor("get", "rollouts", func(k8stesting.Action) (bool, runtime.Object, error) {
		c.mu.Lock()
		read = true
		c.mu.Unlock()
		return false, nil, nil // the tracker answers
	})
	store := func(ns string, ro *argo.Rollout) (runtime.Object, error) {
		c.rv++
		ro.ResourceVersion = fmt.Sprint(c.rv)
		_, stored, err := tracker.React(k8stesting.NewUpdateAction(rolloutsGVR, ns, ro))
		return stored, err
	}
	c.api.Fake.PrependReactor("patch", "rollouts", func(action k8stesting.Action) (bool, runtime.Object, error) {
		patch := action.(k8stesting.PatchActionImpl)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.patches = append(c.patches, patch)
		rv, err := precondition(patch)
		if err != nil {
			return true, nil, apierrors.NewBadRequest("test: " + err.Error())
		}
		switch {
		case rv == "" && read:
			return true, nil, apierrors.NewInvalid(argo.GroupVersion.WithKind("Rollout").GroupKind(), patch.Name, field.ErrorList{
				field.Required(field.NewPath("metadata", "resourceVersion"), "test: the first write after a read must carry the resourceVersion read")})
		case rv != "":
			_, current, err := tracker.React(k8stesting.NewGetAction(rolloutsGVR, patch.Namespace, patch.Name))
			if err != nil {
				return true, nil, err
			}
			if current.(*argo.Rollout).ResourceVersion != rv {
				return true, nil, apierrors.NewConflict(rolloutsGVR.GroupResource(), patch.Name, errors.New("the object has been modified"))
			}
			read = false
		}
		_, patched, err := tracker.React(patch)
		if err != nil {
			return true, nil, err
		}
		answer, err := store(patch.Namespace, patched.(*argo.Rollout))
		if err != nil || patch.Subresource != "status" {
			return true, answer, err
		}
		// argo's controller reacts to the status write.
		_, err = store(patch.Namespace, answer.DeepCopyObject().(*argo.Rollout))
		return true, answer, err
	})
}

// precondition is the resourceVersion a patch requires: metadata.resourceVersion of a
// merge patch, the value a JSON patch replaces /metadata/resourceVersion with.
func precondition(patch k8stesting.PatchActionImpl) (string, error) {
	switch patch.PatchType {
	case k8stypes.MergePatchType:
		var body struct {
			Metadata struct {
				ResourceVersion string `json:"resourceVersion"`
			} `json:"metadata"`
		}
		err := json.Unmarshal(patch.Patch, &body)
		return body.Metadata.ResourceVersion, err
	case k8stypes.JSONPatchType:
		var ops []struct {
			Op    string `json:"op"`
			Path  string `json:"path"`
			Value any    `json:"value"`
		}
		if err := json.Unmarshal(patch.Patch, &ops); err != nil {
			return "", err
		}
		for _, op := range ops {
			if op.Op == "replace" && op.Path == "/metadata/resourceVersion" {
				rv, _ := op.Value.(string)
				return rv, nil
			}
		}
		return "", nil
	}
	return "", fmt.Errorf("unexpected patch type %s", patch.PatchType)
}

// patchList shows patches in failure messages: "status {...}", "rollout [...]".
func patchList(patches []k8stesting.PatchActionImpl) string {
	var lines []string
	for _, p := range patches {
		on := "rollout"
		if p.Subresource != "" {
			on = p.Subresource
		}
		lines = append(lines, on+" "+string(p.Patch))
	}
	return "[" + strings.Join(lines, "; ") + "]"
}

func (c *argoCluster) sent() []k8stesting.PatchActionImpl {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]k8stesting.PatchActionImpl(nil), c.patches...)
}

func (c *argoCluster) driver() *Driver {
	return &Driver{Client: c.api, User: "alice", Now: func() time.Time { return rollouttest.Epoch.Add(time.Hour) }}
}

func (c *argoCluster) get(t *testing.T) *argo.Rollout {
	t.Helper()
	ro, err := c.api.Rollouts(c.rollout.Namespace).Get(context.Background(), c.rollout.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ro
}

func (c *argoCluster) ref() ref.Rollout {
	return ref.Rollout{Kind: ref.ArgoRollout, Namespace: c.rollout.Namespace, Name: c.rollout.Name}
}

// mergeBody decodes a merge patch body.
func mergeBody(t *testing.T, p k8stesting.PatchActionImpl) map[string]any {
	t.Helper()
	if p.PatchType != k8stypes.MergePatchType {
		t.Fatalf("patch type %s, want a merge patch", p.PatchType)
	}
	var body map[string]any
	if err := json.Unmarshal(p.Patch, &body); err != nil {
		t.Fatal(err)
	}
	return body
}

func resourceVersionOf(body map[string]any) string {
	meta, _ := body["metadata"].(map[string]any)
	rv, _ := meta["resourceVersion"].(string)
	return rv
}

func annotationsOf(body map[string]any) map[string]any {
	meta, _ := body["metadata"].(map[string]any)
	annotations, _ := meta["annotations"].(map[string]any)
	return annotations
}

func TestArgoAbortPatchesStatusThenAnnotates(t *testing.T) {
	c := newArgoCluster(t, nil)
	ctx := context.Background()
	result, err := c.driver().Do(ctx, intent.Request{Action: intent.Halt, Target: c.ref(), Reason: "error rate"})
	if err != nil {
		t.Fatal(err)
	}
	sent := c.sent()
	if len(sent) != 2 {
		t.Fatalf("%d patches, want the status patch then the annotation: %s", len(sent), patchList(sent))
	}
	status, annotation := mergeBody(t, sent[0]), mergeBody(t, sent[1])
	if sent[0].Subresource != "status" || fmt.Sprint(status["status"]) != "map[abort:true]" || resourceVersionOf(status) != "777" {
		t.Errorf("first patch on %q: %s; want {\"status\":{\"abort\":true}} on status with resourceVersion 777", sent[0].Subresource, sent[0].Patch)
	}
	// The annotation follows the abort without a precondition: argo's controller has written
	// the status since (779), so the abort's answer (778) would conflict for nothing.
	if sent[1].Subresource != "" || annotationsOf(annotation)[intent.LastActionAnnotation] == nil || resourceVersionOf(annotation) != "" || annotation["status"] != nil {
		t.Errorf("second patch on %q: %s; want the audit annotation alone on the Rollout", sent[1].Subresource, sent[1].Patch)
	}
	ro := c.get(t)
	var record intent.LastAction
	if err := json.Unmarshal([]byte(ro.Annotations[intent.LastActionAnnotation]), &record); err != nil || !ro.Status.Abort ||
		record.Action != intent.Halt || record.User != "alice" || record.Reason != "error rate" || record.From != 2 {
		t.Errorf("after abort: abort %v, record %q (%v)", ro.Status.Abort, ro.Annotations[intent.LastActionAnnotation], err)
	}
	events, _ := c.client.CoreV1().Events(ro.Namespace).List(ctx, metav1.ListOptions{})
	if len(events.Items) != 1 || result.Warning != "" {
		t.Fatalf("events %+v, warning %q; want one Event", events.Items, result.Warning)
	}
	e := events.Items[0]
	if io := e.InvolvedObject; io.Kind != "Rollout" || io.APIVersion != "argoproj.io/v1alpha1" || io.Name != ro.Name || io.UID != ro.UID || e.Reason != "PyrollHalt" ||
		!strings.HasPrefix(e.Message, "Aborted checkout-000 at rev 2 by alice") {
		t.Errorf("event about %+v: %s %q", e.InvolvedObject, e.Reason, e.Message)
	}
}

// A promote at an indefinite pause: the status patch first, guarded by the resourceVersion
// read; then the spec's unpause (when spec.paused) with the audit annotation, or the
// annotation alone, after argo's controller has written the status.
func TestArgoPromoteSendsStatusThenSpec(t *testing.T) {
	for _, specPaused := range []bool{false, true} {
		t.Run(fmt.Sprintf("spec.paused=%v", specPaused), func(t *testing.T) {
			c := newArgoCluster(t, func(ro *argo.Rollout) { ro.Spec.Paused = specPaused })
			plan, err := c.driver().Plan(context.Background(), intent.Request{Action: intent.Promote, Target: c.ref()})
			if err != nil {
				t.Fatal(err)
			}
			if plan.Action != intent.Promote || plan.Noop || !strings.Contains(string(plan.Message), "resume from step 1/4 (pause) to step 2/4 (setWeight: 50)") {
				t.Errorf("plan %s noop %v: %q", plan.Action, plan.Noop, plan.Message)
			}
			if _, err := c.driver().Apply(context.Background(), plan); err != nil {
				t.Fatal(err)
			}
			sent := c.sent()
			if len(sent) != 2 {
				t.Fatalf("%d patches: %s", len(sent), patchList(sent))
			}
			status, second := mergeBody(t, sent[0]), mergeBody(t, sent[1])
			st, _ := status["status"].(map[string]any)
			if v, cleared := st["pauseConditions"]; sent[0].Subresource != "status" || !cleared || v != nil || resourceVersionOf(status) != "777" {
				t.Errorf("first patch on %q: %s; want pauseConditions cleared on status with resourceVersion 777", sent[0].Subresource, sent[0].Patch)
			}
			// Neither the resourceVersion read (777) nor the status write's answer (778) holds
			// by then (argo's controller wrote 779): the second patch goes without.
			spec, _ := second["spec"].(map[string]any)
			if sent[1].Subresource != "" || resourceVersionOf(second) != "" || annotationsOf(second)[intent.LastActionAnnotation] == nil {
				t.Errorf("second patch on %q: %s; want the audit annotation on the Rollout, without a precondition", sent[1].Subresource, sent[1].Patch)
			}
			if paused, has := spec["paused"]; has != specPaused || (specPaused && paused != false) {
				t.Errorf("second patch %s: spec.paused=false sent %v, want %v", sent[1].Patch, has, specPaused)
			}
			ro := c.get(t)
			if ro.Spec.Paused || len(ro.Status.PauseConditions) != 0 || ro.Annotations[intent.LastActionAnnotation] == "" {
				t.Errorf("after promote: paused %v pause conditions %v annotations %v", ro.Spec.Paused, ro.Status.PauseConditions, ro.Annotations)
			}
		})
	}
}

func TestArgoPromoteOfAnAbortedRolloutIsARetry(t *testing.T) {
	c := newArgoCluster(t, func(ro *argo.Rollout) {
		ro.Status.Abort = true
		ro.Status.PauseConditions, ro.Status.ControllerPause = nil, false
		ro.Status.CurrentStepIndex = ptr(int32(0))
		ro.Status.Phase, ro.Status.Message = string(argo.PhaseDegraded), "RolloutAborted: Rollout aborted update to revision 2"
	})
	ctx := context.Background()
	plan, err := c.driver().Plan(ctx, intent.Request{Action: intent.Promote, Target: c.ref()})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Action != intent.Retry || plan.Noop || !strings.Contains(string(plan.Message), "retry rolls rev 2 out again") {
		t.Fatalf("plan %s noop %v %q; want a retry", plan.Action, plan.Noop, plan.Message)
	}
	if _, err := c.driver().Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	sent := c.sent()
	if len(sent) == 0 {
		t.Fatal("nothing sent")
	}
	body := mergeBody(t, sent[0])
	if sent[0].Subresource != "status" || fmt.Sprint(body["status"]) != "map[abort:false]" || resourceVersionOf(body) != "777" {
		t.Errorf("retry sent %s on %q; want {\"status\":{\"abort\":false}} on status with resourceVersion 777", sent[0].Patch, sent[0].Subresource)
	}
	if ro := c.get(t); ro.Status.Abort {
		t.Error("still aborted after the retry")
	}
}

func TestArgoPromoteFullOfAFullyPromotedRolloutSendsNothing(t *testing.T) {
	c := newArgoCluster(t, func(ro *argo.Rollout) {
		ro.Status.StableRS = ro.Status.CurrentPodHash
		ro.Status.CurrentStepIndex = ptr(int32(4))
		ro.Status.PauseConditions, ro.Status.ControllerPause = nil, false
		ro.Status.Phase, ro.Status.Message = string(argo.PhaseHealthy), ""
	})
	ctx := context.Background()
	result, err := c.driver().Do(ctx, intent.Request{Action: intent.PromoteFull, Target: c.ref()})
	if err != nil || !result.Noop || !strings.Contains(string(result.Message), "fully promoted") {
		t.Errorf("full promote: %+v, %v; want a no-op", result, err)
	}
	events, _ := c.client.CoreV1().Events("team-0").List(ctx, metav1.ListOptions{})
	if sent := c.sent(); len(sent) != 0 || len(events.Items) != 0 {
		t.Errorf("sent %s and %d events for a no-op", patchList(sent), len(events.Items))
	}
}

func TestArgoUndoWritesTheStableTemplate(t *testing.T) {
	c := newArgoCluster(t, nil)
	ctx := context.Background()
	plan, err := c.driver().Plan(ctx, intent.Request{Action: intent.Rollback, Target: c.ref(), Reason: "5xx"})
	if err != nil {
		t.Fatal(err)
	}
	if plan.From.Revision != 2 || plan.To.Revision != 1 {
		t.Errorf("plan from %d to %d, want 2 to 1", plan.From.Revision, plan.To.Revision)
	}
	if _, err := c.driver().Apply(ctx, plan); err != nil {
		t.Fatal(err)
	}
	sent := c.sent()
	if len(sent) != 1 || sent[0].PatchType != k8stypes.JSONPatchType || sent[0].Subresource != "" {
		t.Fatalf("sent %s; want one JSON patch on the Rollout", patchList(sent))
	}
	if rv, _ := precondition(sent[0]); rv != "777" {
		t.Errorf("undo's precondition %q, want the resourceVersion read, 777", rv)
	}
	want := c.stable.Spec.Template.DeepCopy()
	delete(want.Labels, argo.PodTemplateHashLabel)
	ro := c.get(t)
	if !equality.Semantic.DeepEqual(ro.Spec.Template, *want) {
		t.Errorf("template after undo:\n%+v\nwant the stable ReplicaSet's without %s:\n%+v", ro.Spec.Template, argo.PodTemplateHashLabel, *want)
	}
	if _, hashed := ro.Spec.Template.Labels[argo.PodTemplateHashLabel]; hashed || ro.Spec.Template.Spec.Containers[0].Image != "ghcr.io/acme/checkout-000:1.0.0" {
		t.Errorf("template labels %v image %s", ro.Spec.Template.Labels, ro.Spec.Template.Spec.Containers[0].Image)
	}
	if cause := ro.Annotations[ChangeCauseAnnotation]; cause != "kubectl-pyroll undo to rev 1 by alice: 5xx" {
		t.Errorf("change-cause %q", cause)
	}
	if ro.Annotations[argo.RevisionAnnotation] != "2" || ro.Annotations[intent.LastActionAnnotation] == "" {
		t.Errorf("annotations %v: the Rollout's own kept, the audit record added", ro.Annotations)
	}
}

// Fully promoted and Complete, the current revision is the stable one (rollout.settle):
// undo goes to the revision before it, not to itself.
func TestArgoUndoOfAFullyPromotedRolloutGoesToThePreviousRevision(t *testing.T) {
	c := newArgoCluster(t, func(ro *argo.Rollout) {
		ro.Status.StableRS = ro.Status.CurrentPodHash
		ro.Status.CurrentStepIndex = ptr(int32(4))
		ro.Status.PauseConditions, ro.Status.ControllerPause = nil, false
		ro.Status.UpdatedReplicas = 5
		ro.Status.Phase, ro.Status.Message = string(argo.PhaseHealthy), ""
	})
	plan, err := c.driver().Plan(context.Background(), intent.Request{Action: intent.Rollback, Target: c.ref()})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Noop || plan.From.Revision != 2 || plan.To.Revision != 1 {
		t.Errorf("plan noop %v from %d to %d (%s); want 2 to 1", plan.Noop, plan.From.Revision, plan.To.Revision, plan.Message)
	}
}

func TestArgoUndoOfAWorkloadRefRolloutIsRefused(t *testing.T) {
	c := newArgoCluster(t, func(ro *argo.Rollout) {
		ro.Spec.WorkloadRef = &argo.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "checkout-src"}
		ro.Spec.Template = corev1.PodTemplateSpec{}
	})
	_, err := c.driver().Do(context.Background(), intent.Request{Action: intent.Rollback, Target: c.ref()})
	if err == nil || !strings.Contains(err.Error(), "deployment/checkout-src") {
		t.Errorf("undo of a workloadRef Rollout: %v; want a refusal naming deployment/checkout-src", err)
	}
	if sent := c.sent(); len(sent) != 0 {
		t.Errorf("sent %s", patchList(sent))
	}
}

// reviewer answers SelfSubjectAccessReviews: every request allowed but those denied, and
// records what was asked.
type reviewer struct {
	mu     sync.Mutex
	denied map[authorizationv1.ResourceAttributes]bool
	asked  []authorizationv1.ResourceAttributes
}

func (r *reviewer) install(client *fake.Clientset) {
	client.PrependReactor("create", "selfsubjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		review := action.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview).DeepCopy()
		attrs := *review.Spec.ResourceAttributes
		r.mu.Lock()
		r.asked = append(r.asked, attrs)
		review.Status.Allowed = !r.denied[attrs]
		r.mu.Unlock()
		return true, review, nil
	})
}

func TestArgoPermissionsAskForTheStatusSubresource(t *testing.T) {
	c := newArgoCluster(t, nil)
	statusPatch := authorizationv1.ResourceAttributes{Namespace: "team-0", Verb: "patch", Group: "argoproj.io", Resource: "rollouts", Subresource: "status"}
	r := &reviewer{denied: map[authorizationv1.ResourceAttributes]bool{statusPatch: true}}
	r.install(c.client)
	access := &Access{Client: c.api}
	perms := access.Permissions(context.Background(), intent.Scope{Kind: ref.ArgoRollout, Namespace: "team-0"})
	askedStatus := false
	for _, a := range r.asked {
		askedStatus = askedStatus || a == statusPatch
	}
	if !askedStatus {
		t.Errorf("asked %+v; want patch rollouts/status (argoproj.io) among them", r.asked)
	}
	for _, a := range []intent.Action{intent.Halt, intent.Promote, intent.PromoteFull, intent.Retry} {
		if ok, why := perms.Allowed(a); ok || why != "forbidden: cannot patch rollouts/status in team-0" {
			t.Errorf("%s allowed=%v (%q); want denied for patch rollouts/status", a, ok, why)
		}
	}
	if ok, why := perms.Allowed(intent.Rollback); !ok {
		t.Errorf("undo denied (%q): it patches the Rollout only", why)
	}

	deployments := (&Access{Client: kubeapitest.FromClientset(c.client)}).Permissions(context.Background(), intent.Scope{Kind: ref.Deployment, Namespace: "team-0"})
	for _, a := range []intent.Action{intent.PromoteFull, intent.Retry} {
		if ok, why := deployments.Allowed(a); ok || !strings.Contains(why, "a Deployment has no") {
			t.Errorf("Deployment %s allowed=%v (%q); want not offered", a, ok, why)
		}
	}
	for _, a := range []intent.Action{intent.Halt, intent.Promote, intent.Rollback} {
		if ok, why := deployments.Allowed(a); !ok {
			t.Errorf("Deployment %s denied (%q)", a, why)
		}
	}
}

// Someone's write between the plan's read and the apply's write: the precondition refuses
// it, the driver reads again, and writes on the new resourceVersion.
func TestArgoAbortRetriesOnAConflict(t *testing.T) {
	c := newArgoCluster(t, nil)
	ctx := context.Background()
	d := c.driver()
	edited := false
	d.BeforeWrite = func(ctx context.Context) {
		if edited {
			return
		}
		edited = true
		ro := c.get(t)
		body, _ := json.Marshal(map[string]any{"metadata": map[string]any{"resourceVersion": ro.ResourceVersion, "labels": map[string]string{"team": "checkout"}}})
		if _, err := c.api.Rollouts(ro.Namespace).Patch(ctx, ro.Name, k8stypes.MergePatchType, body, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Do(ctx, intent.Request{Action: intent.Halt, Target: c.ref()}); err != nil {
		t.Fatal(err)
	}
	sent := c.sent()
	// The edit (777 → 778), the refused abort at 777, the abort at 778 after a new read,
	// the annotation after it.
	var got []string
	for _, p := range sent {
		got = append(got, p.Subresource+"@"+resourceVersionOf(mergeBody(t, p)))
	}
	if want := "[@777 status@777 status@778 @]"; fmt.Sprint(got) != want {
		t.Errorf("patches %v, want %s", got, want)
	}
	if ro := c.get(t); !ro.Status.Abort || ro.Labels["team"] != "checkout" {
		t.Errorf("abort %v labels %v; want aborted and the edit kept", ro.Status.Abort, ro.Labels)
	}
}

// The emergency brake does not wait on the right to read analysis: a user who may patch
// rollouts but not list analysisruns can abort.
func TestArgoAbortWithoutAccessToAnalysisRuns(t *testing.T) {
	c := newArgoCluster(t, nil)
	c.api.Fake.PrependReactor("list", "analysisruns", func(action k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(action.GetResource().GroupResource(), "", errors.New(`User "oncall" cannot list resource "analysisruns"`))
	})
	if _, err := c.driver().Do(context.Background(), intent.Request{Action: intent.Halt, Target: c.ref()}); err != nil {
		t.Fatalf("abort: %v", err)
	}
	if !c.get(t).Status.Abort {
		t.Error("not aborted")
	}
}

// A timed pause that ends while y/n is on screen must not turn "y" into skipping what came
// next: the plan confirmed resumed from the pause at step 1; when the controller has moved
// to step 2 by then, a promote would now skip step 2. Apply writes nothing and says so,
// with the new plan for a new confirmation.
func TestArgoPromoteAfterTheStepMovedIsChanged(t *testing.T) {
	c := newArgoCluster(t, nil)
	ctx := context.Background()
	plan, err := c.driver().Plan(ctx, intent.Request{Action: intent.Promote, Target: c.ref()})
	if err != nil || !strings.Contains(string(plan.Message), "resume from step 1/4 (pause) to step 2/4") {
		t.Fatalf("plan %q, %v", plan.Message, err)
	}
	// The controller moves on: step 2, no pause.
	rv := c.get(t).ResourceVersion
	moved := fmt.Sprintf(`{"metadata":{"resourceVersion":%q},"status":{"pauseConditions":null,"controllerPause":false,"currentStepIndex":2}}`, rv)
	if _, err := c.api.Rollouts(c.rollout.Namespace).Patch(ctx, c.rollout.Name, k8stypes.MergePatchType, []byte(moved), metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
	before := len(c.sent())
	_, err = c.driver().Apply(ctx, plan)
	var changed *intent.ChangedError
	if !errors.Is(err, ErrChanged) || !errors.As(err, &changed) {
		t.Fatalf("apply after the step moved: %v; want ErrChanged", err)
	}
	if !strings.Contains(string(changed.Now.Message), "skip from step 2/4") || !strings.Contains(err.Error(), "you confirmed") {
		t.Errorf("changed error: %v; want the new plan (skip from step 2/4) beside the confirmed one", err)
	}
	if sent := c.sent()[before:]; len(sent) != 0 {
		t.Errorf("wrote after the decision changed: %s", patchList(sent))
	}
	// The new plan, confirmed anew, is written.
	if _, err := c.driver().Apply(ctx, changed.Now); err != nil {
		t.Fatalf("apply of the new plan: %v", err)
	}
	if st := c.get(t).Status; st.CurrentStepIndex == nil || *st.CurrentStepIndex != 3 {
		t.Errorf("after the confirmed skip: step %v; want 3", st.CurrentStepIndex)
	}
}
