// Package rollout reads a rollout from the objects the API server holds: Deployments,
// their ReplicaSets (one per revision) and Pods. It is pure: no I/O, no clock of its own.
// The view structs here are what the console, `status` and the JSON output show, and
// their JSON form is the documented `status -o json` schema. Every string in them was
// written by someone else and made safe where it entered (package safetext): free text is
// a safetext.Text, and names (which the API server validates) went through safetext.Line.
package rollout

import (
	"strconv"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/provenance"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Phase is the one-word state of a rollout.
type Phase string

const (
	// PhaseFailed: the Deployment's progress deadline passed (ProgressDeadlineExceeded).
	PhaseFailed Phase = "Failed"
	// PhaseDegraded: pods of the new revision are failing (crash loop, image pull,
	// OOMKilled, bad config, or not ready past the grace period).
	PhaseDegraded Phase = "Degraded"
	// PhaseHalted: spec.paused; someone stopped the rollout.
	PhaseHalted Phase = "Halted"
	// PhasePaused: an Argo Rollout waiting where its steps say to (a pause step without a
	// duration, an inconclusive analysis): someone must promote it to go on.
	PhasePaused Phase = "Paused"
	// PhaseProgressing: rolling out, nothing wrong yet.
	PhaseProgressing Phase = "Progressing"
	// PhaseBaking: Complete, in its bake window: the release completed less than its bake
	// time ago and is still watched (Rollout.Bake).
	PhaseBaking Phase = "Baking"
	// PhaseComplete: as `kubectl rollout status` decides: every replica updated and available.
	PhaseComplete Phase = "Complete"
)

// Phases are every phase, trouble first: the order the list sorts and counts them in.
var Phases = []Phase{PhaseFailed, PhaseDegraded, PhaseHalted, PhasePaused, PhaseProgressing, PhaseBaking, PhaseComplete}

// Severity orders phases so that trouble sorts first (Failed = 0 ... Complete = 6), a
// release in its bake window with those in progress.
func (p Phase) Severity() int {
	for i, q := range Phases {
		if p == q {
			return i
		}
	}
	return len(Phases)
}

// IsFailure reports whether scripts should treat the phase as a failure (exit code 1).
func (p Phase) IsFailure() bool { return p == PhaseFailed || p == PhaseDegraded }

// Role is what a revision is to its rollout.
type Role string

const (
	// RoleCanary is the revision of the current pod template while it is rolled out.
	RoleCanary Role = "canary"
	// RoleStable is the revision that serves: during a rollout the newest older revision
	// still serving (has available pods); once the rollout is Complete, the current
	// revision itself (settle: one rule for Deployments and Argo Rollouts).
	RoleStable Role = "stable"
	// RoleOld is any other older revision.
	RoleOld Role = "old"
	// RolePreview (blueGreen) is the new revision behind the preview service: the canary's place.
	RolePreview Role = "preview"
	// RoleActive (blueGreen) is the revision the active service sends traffic to: the stable's place.
	RoleActive Role = "active"
)

// IsNew reports whether the role is the revision being rolled out (canary or preview).
func (r Role) IsNew() bool { return r == RoleCanary || r == RolePreview }

// IsServing reports whether the role is the revision that serves (stable or active).
func (r Role) IsServing() bool { return r == RoleStable || r == RoleActive }

// Rollout is one Deployment or Argo Rollout as the console shows it.
type Rollout struct {
	// Cluster is the kubeconfig context it was read through when several are in view
	// ("" with one: ref.Rollout.Cluster).
	Cluster   string   `json:"context,omitempty"`
	Kind      ref.Kind `json:"kind"`
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	Phase     Phase    `json:"phase"`
	// Why is one line saying what the phase rests on, e.g.
	// "1/1 canary pods CrashLoopBackOff: ModuleNotFoundError: No module named 'orjson'".
	Why    safetext.Text `json:"why"`
	Paused bool          `json:"paused"`

	// CanaryRevision and StableRevision are revision numbers (0: none). CanaryRevision is
	// the current revision (the current pod template's); once the rollout is Complete it
	// is also the stable one and both are its number (Settled).
	CanaryRevision int64 `json:"canaryRevision"`
	StableRevision int64 `json:"stableRevision"`

	Replicas Replicas `json:"replicas"`
	// StartedAt is when the current revision's ReplicaSet was created (the age of the
	// rollout), or the Deployment's creation when it has none yet.
	StartedAt time.Time `json:"startedAt"`
	// Revisions, newest first.
	Revisions []Revision `json:"revisions"`
	// Events of the Deployment and its ReplicaSets, newest first (at most MaxEvents).
	Events []Event `json:"events,omitempty"`
	// LastAction is kubectl-pyroll's audit record on the Deployment, if any.
	LastAction *LastAction `json:"lastAction,omitempty"`
	// Bake is the release's bake window while it is in it (PhaseBaking), else nil.
	Bake *Bake `json:"bake,omitempty"`
	// GuardActed is the guard's memory on the object: the revision a guard last acted on.
	GuardActed *GuardActed `json:"guardActed,omitempty"`
	// Settings are the Deployment's pyroll.dev/ annotations (thresholds, presets), what our
	// code reads rather than shows: keys and values as safetext.Line made them.
	Settings map[string]string `json:"settings,omitempty"`
	// Argo is an Argo Rollout's strategy, steps, weights and analysis (nil for a Deployment).
	Argo *Argo `json:"argo,omitempty"`
	// Version numbers the contents: a Builder that hands out the previous Build's rollout
	// unchanged (the same objects, pods and events) gives it the same Version, anything
	// else a new one (never 0). What draws rollouts can keep what it drew for a Version.
	Version uint64 `json:"-"`
	// Owner is who else writes the rollout (Argo CD, Flux, Helm), as its labels and
	// annotations say; nil when nobody does. What that owner does to an action needs its
	// object read (owner.View, internal/kube's OwnerReader): this is only the claim.
	Owner *owner.Detection `json:"-"`
	// Pods is PodsSyncing while the pods are still being read: the rollout's replicas,
	// revisions and phase come from its own and its ReplicaSets' status, its revisions'
	// Pods are not all there, and its phase claims nothing from pod state (no Degraded from
	// a crash loop yet). "" once every pod is read.
	Pods PodsState `json:"pods,omitempty"`
}

// PodsState says whether a rollout's pods are all read.
type PodsState string

// PodsSyncing: the pods are still being read.
const PodsSyncing PodsState = "syncing"

// ReadingPods reports whether the rollout was built before its pods were all read.
func (r *Rollout) ReadingPods() bool { return r.Pods == PodsSyncing }

// Halted reports whether the halt action has nothing left to do: a Deployment paused, an
// Argo Rollout aborted (its halt is an abort: a paused Rollout still sends traffic to
// its canary).
func (r *Rollout) Halted() bool {
	if r.Argo != nil {
		return r.Argo.Aborted
	}
	return r.Paused
}

// Ref is the rollout's identity: kind, namespace, name.
func (r *Rollout) Ref() ref.Rollout {
	return ref.Rollout{Cluster: r.Cluster, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

// MaxEvents is how many recent events a rollout keeps.
const MaxEvents = 10

// LastAction is intent.LastAction as read back from the annotation, which anyone who may
// edit the Deployment can write: the same JSON, its text made safe.
type LastAction struct {
	Action safetext.Text `json:"action"`
	User   safetext.Text `json:"user"`
	Time   time.Time     `json:"time"`
	Reason safetext.Text `json:"reason,omitempty"`
	From   int64         `json:"fromRevision,omitempty"`
	To     int64         `json:"toRevision,omitempty"`
}

// GuardActed is intent.GuardActed as read back from the annotation (anyone who may edit
// the object can write it: at worst a guard then leaves that revision alone, as after its
// own action).
type GuardActed struct {
	Revision int64         `json:"revision"`
	Action   safetext.Text `json:"action"`
	Guard    safetext.Text `json:"guard"`
	Time     time.Time     `json:"time"`
}

// Event is a Kubernetes Event about the Deployment or one of its ReplicaSets.
type Event struct {
	Time    time.Time     `json:"time"`
	Type    safetext.Text `json:"type"` // Normal or Warning
	Reason  safetext.Text `json:"reason"`
	Object  safetext.Text `json:"object"` // e.g. "ReplicaSet/orders-api-d88898778"
	Message safetext.Text `json:"message"`
	Count   int32         `json:"count,omitempty"`
}

// Replicas counts pods of the whole rollout (Deployment status).
type Replicas struct {
	Desired     int32 `json:"desired"`
	Current     int32 `json:"current"`
	Updated     int32 `json:"updated"`
	Ready       int32 `json:"ready"`
	Available   int32 `json:"available"`
	Unavailable int32 `json:"unavailable"`
}

// Revision is one ReplicaSet of the rollout.
type Revision struct {
	Number          int64           `json:"number"` // 0 when the ReplicaSet has no revision annotation
	Role            Role            `json:"role"`
	ReplicaSet      string          `json:"replicaSet"`
	PodTemplateHash string          `json:"podTemplateHash"`
	Images          []safetext.Text `json:"images"`
	Desired         int32           `json:"desired"`
	Current         int32           `json:"current"`
	Ready           int32           `json:"ready"`
	Available       int32           `json:"available"`
	CreatedAt       time.Time       `json:"createdAt"`
	Pods            []*Pod          `json:"pods"` // shared with the watch cache's facts and other snapshots: read only
	// Provenance is the build this revision runs: git SHA, version, lock hash, Python,
	// pipeline run, image references and the digests its pods report.
	Provenance provenance.Provenance `json:"provenance"`
	// Chart is the Helm chart this revision was installed from, when a release of the
	// rollout's Helm owner rendered its template (history and diff read it; nil elsewhere).
	Chart *owner.Chart `json:"chart,omitempty"`
}

// Pod is one pod's health.
type Pod struct {
	Name  string        `json:"name"`
	Ready bool          `json:"ready"`
	Phase safetext.Text `json:"phase"`
	// Reason is why the pod is not serving: CrashLoopBackOff, OOMKilled, ImagePullBackOff,
	// ErrImagePull, CreateContainerConfigError, Error, Pending, Unschedulable,
	// Terminating, NotReady; "" for a ready pod.
	Reason safetext.Text `json:"reason,omitempty"`
	// Detail is the reason's message (scheduler message, back-off message, ...).
	Detail   safetext.Text `json:"detail,omitempty"`
	ExitCode *int32        `json:"exitCode,omitempty"`
	Restarts int32         `json:"restarts"`
	// NotReadySince is when the pod last stopped being ready (or was created, if never).
	NotReadySince *time.Time `json:"notReadySince,omitempty"`
	// TerminationMessage is the last terminated container's message, its lines kept
	// (safetext.Block).
	TerminationMessage safetext.Text `json:"terminationMessage,omitempty"`
	// Hint is the one line that explains a Python failure, e.g.
	// "ModuleNotFoundError: No module named 'orjson'" or "gunicorn WORKER TIMEOUT".
	Hint      safetext.Text `json:"hint,omitempty"`
	Node      safetext.Text `json:"node,omitempty"`
	IP        safetext.Text `json:"ip,omitempty"`
	CreatedAt time.Time     `json:"createdAt"`
}

// Failing reports whether the pod's reason is one that will not fix itself by waiting.
func (p Pod) Failing() bool {
	switch p.Reason {
	case ReasonCrashLoop, ReasonOOMKilled, ReasonImagePullBackOff, ReasonErrImagePull,
		ReasonCreateContainerConfigError, ReasonInvalidImageName, ReasonError:
		return true
	}
	return false
}

// Pod reasons.
const (
	ReasonCrashLoop                  = "CrashLoopBackOff"
	ReasonOOMKilled                  = "OOMKilled"
	ReasonImagePullBackOff           = "ImagePullBackOff"
	ReasonErrImagePull               = "ErrImagePull"
	ReasonInvalidImageName           = "InvalidImageName"
	ReasonCreateContainerConfigError = "CreateContainerConfigError"
	ReasonError                      = "Error"
	ReasonPending                    = "Pending"
	ReasonUnschedulable              = "Unschedulable"
	ReasonTerminating                = "Terminating"
	ReasonNotReady                   = "NotReady"
)

// Canary returns the canary revision (a blueGreen rollout's preview), if there is one.
func (r *Rollout) Canary() *Revision { return r.revisionWhere(Role.IsNew) }

// Stable returns the stable revision (a blueGreen rollout's active one), if there is one:
// once the rollout is Complete, the current revision.
func (r *Rollout) Stable() *Revision { return r.revisionWhere(Role.IsServing) }

// Current returns the current revision (the current pod template's): the canary (preview)
// during a rollout, the stable (active) one once it completed or on a settled blueGreen.
// Its numbers are what the guard judges and the BUILD column shows.
func (r *Rollout) Current() *Revision {
	if c := r.Canary(); c != nil || r.CanaryRevision == 0 {
		return c
	}
	for i := range r.Revisions {
		if r.Revisions[i].Number == r.CanaryRevision {
			return &r.Revisions[i]
		}
	}
	return nil
}

// Settled reports whether the current revision is the stable one: the rollout completed.
func (r *Rollout) Settled() bool {
	return r.CanaryRevision != 0 && r.StableRevision == r.CanaryRevision
}

func (r *Rollout) revisionWhere(is func(Role) bool) *Revision {
	for i := range r.Revisions {
		if is(r.Revisions[i].Role) {
			return &r.Revisions[i]
		}
	}
	return nil
}

// RevisionLabel is "7" for a settled rollout and "6→7" (stable→canary, with the given
// arrow) during one.
func (r *Rollout) RevisionLabel(arrow string) string {
	canary := "-"
	if r.CanaryRevision > 0 {
		canary = strconv.FormatInt(r.CanaryRevision, 10)
	}
	if r.StableRevision > 0 && r.StableRevision != r.CanaryRevision {
		return strconv.FormatInt(r.StableRevision, 10) + arrow + canary
	}
	return canary
}
