package rollout

import (
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// RevisionAnnotation holds a Deployment's and its ReplicaSets' revision number.
const RevisionAnnotation = "deployment.kubernetes.io/revision"

// NotReadyGrace is how long a canary pod may stay not ready before the rollout counts as
// Degraded (for reasons that are not failures by themselves, e.g. a readiness probe).
const NotReadyGrace = 5 * time.Minute

// Objects are the API objects one snapshot is built from. Objects are read, never changed.
type Objects struct {
	Deployments []*appsv1.Deployment
	ReplicaSets []*appsv1.ReplicaSet
	Pods        []*corev1.Pod
	// PodFacts are pods already read (what a watch cache keeps); Pods are read on Build.
	PodFacts []*PodFacts
	Events   []*corev1.Event
	// PodsByOwner and EventsByObject, when set, are the pods (read) by the UID of their
	// controlling ReplicaSet and the events by the UID of their object, grouped already (a
	// watcher keeps them so as they change); Pods, PodFacts and Events are not read then.
	PodsByOwner    map[types.UID][]*PodFacts
	EventsByObject map[types.UID][]*corev1.Event
	// Rollouts are Argo Rollouts (their ReplicaSets are among ReplicaSets, owned by kind
	// Rollout), and AnalysisRuns theirs.
	Rollouts     []*argo.Rollout
	AnalysisRuns []*argo.AnalysisRun
	// PodsSyncing: the pods are still being read (a watch cache's first list of them has not
	// ended), so the pods here are some or none of them. The rollouts are built from their
	// own and their ReplicaSets' status, each says so (Rollout.Pods), and no phase rests on
	// pod state: no Degraded from a crash loop or a pod not ready past its grace until
	// every pod is read.
	PodsSyncing bool
}

// Build turns the objects into one Rollout per Deployment and Argo Rollout (not for a
// Deployment an Argo Rollout takes its template from), trouble first (Failed,
// Degraded, Halted, Progressing, Complete), then by namespace and name.
func Build(objs Objects, now time.Time) []Rollout {
	var b Builder
	return b.Build(objs, now)
}

// Build is the package's Build, reusing what did not change since the previous call.
func (b *Builder) Build(objs Objects, now time.Time) []Rollout {
	b.begin(len(objs.ReplicaSets))
	b.clock = graceClock{grace: b.NotReadyGrace, podsSyncing: objs.PodsSyncing}
	if b.clock.grace <= 0 {
		b.clock.grace = NotReadyGrace
	}
	defer b.end()
	rsByOwner := make(map[types.UID][]*appsv1.ReplicaSet, len(objs.Deployments))
	for _, rs := range objs.ReplicaSets {
		if owner := metav1.GetControllerOfNoCopy(rs); owner != nil && (owner.Kind == "Deployment" || owner.Kind == "Rollout") {
			rsByOwner[owner.UID] = append(rsByOwner[owner.UID], rs)
		}
	}
	podsByOwner, eventsByObject := objs.PodsByOwner, objs.EventsByObject
	if podsByOwner == nil {
		podsByOwner = groupPods(objs, len(objs.ReplicaSets))
	}
	if eventsByObject == nil {
		eventsByObject = make(map[types.UID][]*corev1.Event)
		for _, e := range objs.Events {
			eventsByObject[e.InvolvedObject.UID] = append(eventsByObject[e.InvolvedObject.UID], e)
		}
	}
	out := make([]Rollout, 0, len(objs.Deployments)+len(objs.Rollouts))
	hidden := workloadRefs(objs.Rollouts)
	for _, d := range objs.Deployments {
		if hidden[types.NamespacedName{Namespace: d.Namespace, Name: d.Name}] {
			continue
		}
		r, kept := b.deploymentRollout(d, rsByOwner[d.UID], podsByOwner, objs.PodsByOwner != nil, now)
		if objs.PodsSyncing {
			r.Pods = PodsSyncing
		}
		r.Events = b.recentEvents(d.UID, rsByOwner[d.UID], eventsByObject, objs.EventsByObject != nil)
		r.Version = versionOf(kept, r.Events)
		out = append(out, r)
	}
	runsByOwner := make(map[types.UID][]*argo.AnalysisRun)
	for _, run := range objs.AnalysisRuns {
		if owner := metav1.GetControllerOfNoCopy(run); owner != nil {
			runsByOwner[owner.UID] = append(runsByOwner[owner.UID], run)
		}
	}
	for _, ro := range objs.Rollouts {
		r := b.buildArgo(ro, rsByOwner[ro.UID], podsByOwner, runsByOwner[ro.UID], now)
		if objs.PodsSyncing {
			r.Pods = PodsSyncing
		}
		r.Events = b.recentEvents(ro.UID, rsByOwner[ro.UID], eventsByObject, objs.EventsByObject != nil)
		r.Version = versionOf(nil, r.Events)
		out = append(out, r)
	}
	Sort(out)
	return out
}

// groupPods groups the pods, reading those not read yet, by the UID of their controlling
// ReplicaSet.
func groupPods(objs Objects, owners int) map[types.UID][]*PodFacts {
	byOwner := make(map[types.UID][]*PodFacts, owners)
	for _, pod := range objs.PodFacts {
		if pod.Owner != "" {
			byOwner[pod.Owner] = append(byOwner[pod.Owner], pod)
		}
	}
	for _, p := range objs.Pods {
		if pod := FactsOf(p); pod.Owner != "" {
			byOwner[pod.Owner] = append(byOwner[pod.Owner], pod)
		}
	}
	return byOwner
}

// Sort orders rollouts trouble first, then by namespace and name; one name in several
// clusters stands together, by context.
func Sort(rs []Rollout) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := &rs[i], &rs[j] // not copies: a Rollout is large
		if a.Phase.Severity() != b.Phase.Severity() {
			return a.Phase.Severity() < b.Phase.Severity()
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Cluster != b.Cluster {
			return a.Cluster < b.Cluster
		}
		return a.Kind < b.Kind
	})
}

func (b *Builder) buildDeployment(d *appsv1.Deployment, replicaSets []*appsv1.ReplicaSet, podsByOwner map[types.UID][]*PodFacts, now time.Time) Rollout {
	r := Rollout{
		Kind:      ref.Deployment,
		Namespace: safeName(d.Namespace),
		Name:      safeName(d.Name),
		Paused:    d.Spec.Paused,
		StartedAt: d.CreationTimestamp.Time,
		Replicas: Replicas{
			Desired:     desiredReplicas(d),
			Current:     d.Status.Replicas,
			Updated:     d.Status.UpdatedReplicas,
			Ready:       d.Status.ReadyReplicas,
			Available:   d.Status.AvailableReplicas,
			Unavailable: d.Status.UnavailableReplicas,
		},
	}
	canaryRS := findCanary(d, replicaSets)
	r.Revisions = make([]Revision, 0, len(replicaSets))
	for _, rs := range replicaSets {
		rev := b.buildRevision(rs, RevisionOf(rs), rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey], podsByOwner[rs.UID])
		if rs == canaryRS {
			rev.Role = RoleCanary
			r.CanaryRevision = rev.Number
			r.StartedAt = rs.CreationTimestamp.Time
		}
		r.Revisions = append(r.Revisions, rev)
	}
	sort.SliceStable(r.Revisions, func(i, j int) bool { return newerRevision(r.Revisions[i], r.Revisions[j]) })

	readAnnotations(&r, d.Annotations)
	r.Owner = ownerOf(ref.Deployment, d)
	r.Phase, r.Why = decidePhase(d, &r, now, &b.clock)
	if stable := chooseStable(&r); stable != nil {
		stable.Role = RoleStable
		r.StableRevision = stable.Number
	}
	settle(&r)
	b.bake(&r, d.Annotations, deploymentCompletedAt(d, canaryRS), now)
	return r
}

// settle is the rule Deployments and Argo Rollouts share once a rollout is Complete: its
// current revision is the stable one (a blueGreen's active one), and StableRevision is its
// number, as argo's status.stableRS names the current pod hash after a full promotion. No
// older revision serves any more: whatever was stable before is old. Roles are settled
// after the phase is decided: a revision's pods are judged as the canary's until then.
func settle(r *Rollout) {
	if r.Phase != PhaseComplete {
		return
	}
	current := r.Current()
	if current == nil {
		return
	}
	for i := range r.Revisions {
		if rev := &r.Revisions[i]; rev != current && rev.Role.IsServing() {
			rev.Role = RoleOld
		}
	}
	switch current.Role {
	case RoleCanary:
		current.Role = RoleStable
	case RolePreview:
		current.Role = RoleActive
	}
	r.StableRevision = current.Number
}

// safeName is a name as a view keeps it: the API server allows only DNS names there, which
// safetext.Line leaves as they are (without a copy), so the view still names the object.
func safeName(name string) string { return string(safetext.Line(name)) }

// readAnnotations reads kubectl-pyroll's own annotations on the rollout: its settings
// (thresholds, presets) and the audit record of the last action.
func readAnnotations(r *Rollout, annotations map[string]string) {
	for k, v := range annotations {
		if strings.HasPrefix(k, "pyroll.dev/") && k != intent.LastActionAnnotation && k != intent.GuardActedAnnotation {
			if r.Settings == nil {
				r.Settings = map[string]string{}
			}
			r.Settings[string(safetext.Line(k))] = string(safetext.Line(v))
		}
	}
	if raw := annotations[intent.LastActionAnnotation]; raw != "" {
		var last intent.LastAction
		if json.Unmarshal([]byte(raw), &last) == nil {
			r.LastAction = &LastAction{
				Action: safetext.Line(string(last.Action)), User: safetext.Line(last.User), Time: last.Time,
				Reason: safetext.Line(last.Reason), From: last.From, To: last.To,
			}
		}
	}
	if raw := annotations[intent.GuardActedAnnotation]; raw != "" {
		var acted intent.GuardActed
		if json.Unmarshal([]byte(raw), &acted) == nil && acted.Revision > 0 {
			r.GuardActed = &GuardActed{Revision: acted.Revision, Action: safetext.Line(string(acted.Action)), Guard: safetext.Line(acted.Guard), Time: acted.Time}
		}
	}
}

// ownerOf is who else writes obj, nil when nobody does.
func ownerOf(kind ref.Kind, obj metav1.Object) *owner.Detection {
	d := owner.Detect(kind, obj, owner.Options{})
	if d.Owner == nil {
		return nil
	}
	return &d
}

func desiredReplicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// newerRevision orders revisions newest first; ReplicaSets without a revision number sort
// by creation time after numbered ones of the same age.
func newerRevision(a, b Revision) bool {
	if a.Number != b.Number {
		return a.Number > b.Number
	}
	return a.CreatedAt.After(b.CreatedAt)
}

// findCanary returns the ReplicaSet whose pod template is the Deployment's current one
// (ignoring the pod-template-hash label), as the deployment controller decides.
func findCanary(d *appsv1.Deployment, replicaSets []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	// Fast path: once the controller has observed the current spec of a running rollout, the
	// Deployment's revision annotation names its new ReplicaSet. (Not when paused: a template
	// changed while paused has no ReplicaSet yet, but the annotation still names the old one.)
	if rev := d.Annotations[RevisionAnnotation]; rev != "" && !d.Spec.Paused && d.Status.ObservedGeneration >= d.Generation {
		for _, rs := range replicaSets {
			if rs.Annotations[RevisionAnnotation] == rev {
				return rs
			}
		}
	}
	var best *appsv1.ReplicaSet
	for _, rs := range replicaSets {
		if !templatesEqualIgnoringHash(&rs.Spec.Template, &d.Spec.Template) {
			continue
		}
		if best == nil || RevisionOf(rs) > RevisionOf(best) || (RevisionOf(rs) == RevisionOf(best) && rs.CreationTimestamp.Before(&best.CreationTimestamp)) {
			best = rs
		}
	}
	return best
}

func templatesEqualIgnoringHash(a, b *corev1.PodTemplateSpec) bool {
	a1, b1 := a.DeepCopy(), b.DeepCopy()
	delete(a1.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	delete(b1.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	return equality.Semantic.DeepEqual(a1, b1)
}

// RevisionOf reads an object's revision annotation (0 when absent or not a number).
func RevisionOf(obj metav1.Object) int64 {
	n, err := strconv.ParseInt(obj.GetAnnotations()[RevisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// buildRevision reads one ReplicaSet; its revision number and pod template hash come from
// the labels and annotations of its owner's kind.
func (b *Builder) buildRevision(rs *appsv1.ReplicaSet, number int64, podTemplateHash string, pods []*PodFacts) Revision {
	if rev, ok := b.sameRevision(rs, pods); ok {
		return rev
	}
	rev := Revision{
		Number:          number,
		Role:            RoleOld,
		ReplicaSet:      safeName(rs.Name),
		PodTemplateHash: safeName(podTemplateHash),
		Current:         rs.Status.Replicas,
		Ready:           rs.Status.ReadyReplicas,
		Available:       rs.Status.AvailableReplicas,
		CreatedAt:       rs.CreationTimestamp.Time,
	}
	if rs.Spec.Replicas != nil {
		rev.Desired = *rs.Spec.Replicas
	}
	rev.Images = make([]safetext.Text, 0, len(rs.Spec.Template.Spec.Containers))
	for _, c := range rs.Spec.Template.Spec.Containers {
		rev.Images = append(rev.Images, safetext.Line(c.Image))
	}
	// The views themselves, not copies: a pod's facts are made anew when it changes, so a
	// view never changes under a snapshot (a copy each was most of a Build's garbage).
	rev.Pods = make([]*Pod, 0, len(pods))
	for _, p := range pods {
		rev.Pods = append(rev.Pods, &p.View)
	}
	slices.SortFunc(rev.Pods, func(a, b *Pod) int { return strings.Compare(a.Name, b.Name) })
	rev.Provenance = b.revisionProvenance(rs, pods)
	b.keepRevision(rs, pods, rev)
	return rev
}

// chooseStable picks the newest older revision that still serves: ready pods (what a
// Service sends traffic to) or available ones. A revision that never served (a failed
// canary being rolled back) is never "stable".
func chooseStable(r *Rollout) *Revision {
	for i := range r.Revisions {
		rev := &r.Revisions[i]
		if rev.Role == RoleCanary || (r.CanaryRevision != 0 && rev.Number > r.CanaryRevision) {
			continue
		}
		if rev.Ready > 0 || rev.Available > 0 {
			return rev
		}
	}
	return nil
}

// recentEvents gathers the events about the rollout (by its UID) and its ReplicaSets, newest first.
func recentEvents(uid types.UID, replicaSets []*appsv1.ReplicaSet, byObject map[types.UID][]*corev1.Event) []Event {
	var raw []*corev1.Event
	raw = append(raw, byObject[uid]...)
	for _, rs := range replicaSets {
		raw = append(raw, byObject[rs.UID]...)
	}
	if len(raw) == 0 {
		return nil
	}
	// Newest first, and only those kept are read: anyone may create Events, so their text
	// is made safe here, once each.
	sort.SliceStable(raw, func(i, j int) bool { return eventTime(raw[i]).After(eventTime(raw[j])) })
	raw = raw[:min(len(raw), MaxEvents)]
	events := make([]Event, 0, len(raw))
	for _, e := range raw {
		events = append(events, Event{
			Time: eventTime(e), Type: safetext.Line(e.Type), Reason: safetext.Line(e.Reason), Count: e.Count,
			Object:  safetext.Line(e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name),
			Message: safetext.Line(e.Message),
		})
	}
	return events
}

// eventTime is when the event last happened, whichever API generation wrote it.
func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	default:
		return e.CreationTimestamp.Time
	}
}
