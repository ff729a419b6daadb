// Package hostile makes API objects with hostile text in every string kubectl-pyroll reads,
// as anyone who may create a Deployment, a pod or an Event in a namespace can write them:
// escape sequences that set the clipboard (OSC 52), retitle the window (OSC 0 and 2) or
// blink, device and application control strings, C1 controls, a right-to-left override,
// invalid UTF-8, newlines, stacks of combining marks, a 64 KiB annotation, names of 253
// characters, 10,000 environment variables. The tests feed them through every output and
// assert that none of it reaches a terminal as written (package safetext).
//
// Clean gives the same objects with harmless text of the same shape, so that a test can
// compare what the console draws for each: the escape sequences of a frame must be the
// console's own, the same over either.
package hostile

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/metrics"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// The sequences seen on a real cluster, and their kin.
const (
	// OSC52 sets the clipboard of the terminal that prints it ("echo pwned").
	OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
	// Blink turns on blinking for whatever the terminal prints next.
	Blink = "\x1b[5m"
	// Title0 and Title2 set the window title (OSC 0 and OSC 2), Title0 with ST.
	Title0 = "\x1b]0;pwned\x1b\\"
	Title2 = "\x1b]2;pwned\x07"
	// DCS and APC are device and application control strings.
	DCS = "\x1bP1$r0m\x1b\\"
	APC = "\x1b_Gf=100;cHduZWQ=\x1b\\"
	// C1CSI is CSI as one C1 character (U+009B): clear the screen.
	C1CSI = "\u009b2J"
	// RLO reverses what follows it on screen.
	RLO = "\u202e"
)

// Images are the ones of the issue: the canary's ends in an OSC 52, the stable's in a blink.
const (
	CanaryImage = "ghcr.io/acme/evil:2.0" + OSC52
	StableImage = "ghcr.io/acme/evil:1.9" + Blink
)

// Values are short hostile texts, one for each kind of thing that must not pass.
var Values = []string{
	"x" + OSC52, "x" + Blink, Title0 + "x", Title2 + "x", DCS + "x", APC + "x", "x" + C1CSI,
	"abc" + RLO + "fed", "bad\xff\xfeutf8\xc3", "", "line one\nline two\r\nthree\rfour",
	"nul\x00bel\x07del\x7fbs\x08", "z" + strings.Repeat("\u0301", 40), "zero\u200bwidth\u200djoin\ufeff",
	"\u2066isolate\u2069\u061c", "tab\there", "  padded  ", "\x1b", "\x1b[", "\x1b]",
}

// Huge is an annotation of 64 KiB: an OSC 52 carrying a payload that size.
var Huge = "\x1b]52;c;" + strings.Repeat("QUFB", 64<<10/4) + "\x07"

// Name is a valid DNS subdomain of exactly n characters (at most 253), starting with
// prefix: the longest names the API server accepts.
func Name(prefix string, n int) string {
	var b strings.Builder
	b.WriteString(prefix)
	label := len(prefix)
	for b.Len() < n {
		switch {
		case b.Len() == n-1 || label < 62:
			b.WriteByte("abcdefghijklmnopqrstuvwxyz0123456789"[b.Len()%36])
			label++
		default:
			b.WriteByte('.')
			label = 0
		}
	}
	return b.String()
}

// Variant says which text the objects carry.
type Variant bool

const (
	// Hostile text in every field.
	Hostile Variant = true
	// Clean text of the same shape.
	Clean Variant = false
)

// Epoch is when the objects were created; Now is an hour later.
var (
	Epoch = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	Now   = Epoch.Add(time.Hour)
)

// EnvVars is how many environment variables the canary's template sets.
const EnvVars = 10000

// The objects' names: as long as the API server allows.
var (
	Namespace  = Name("ns", 63)[:63]
	Deployment = Name("dep-", 253)
	ArgoName   = Name("ro-", 253)
)

// text is the source of the objects' free text: hostile values in turn, or harmless
// ones of the same length.
type text struct {
	v Variant
	i int
}

func (t *text) next(what string) string {
	t.i++
	s := Values[t.i%len(Values)]
	if t.v == Clean {
		return clean(what, len(s))
	}
	return s
}

// is picks the hostile or the clean of two.
func (t *text) is(hostile, clean string) string {
	if t.v == Hostile {
		return hostile
	}
	return clean
}

func clean(what string, n int) string {
	s := strings.ReplaceAll(what, " ", "-")
	for len(s) < n {
		s += "-" + what
	}
	return s[:max(n, min(len(s), 8))]
}

// Objects are a Deployment (its stable revision's image ends in a blink, its canary's in
// an OSC 52, the canary crash-loops with a hostile termination message and sets 10,000
// environment variables), its ReplicaSets, pods and Events, and an Argo Rollout with an
// AnalysisRun, its ReplicaSets and pods, every string kubectl-pyroll reads in them written
// by v.
func Objects(v Variant) rollout.Objects {
	t := &text{v: v}
	var objs rollout.Objects
	d := deployment(t)
	stable := replicaSet(t, d.Name, d.UID, "Deployment", appsv1.DefaultDeploymentUniqueLabelKey, rollout.RevisionAnnotation, 1, "5d4c3b2a1", t.is(StableImage, "ghcr.io/acme/good:1.9"))
	canary := replicaSet(t, d.Name, d.UID, "Deployment", appsv1.DefaultDeploymentUniqueLabelKey, rollout.RevisionAnnotation, 2, "9f8e7d6c5", t.is(CanaryImage, "ghcr.io/acme/good:2.0"+strings.Repeat("x", len(OSC52))))
	addEnv(t, &canary.Spec.Template)
	d.Spec.Template = *canary.Spec.Template.DeepCopy()
	delete(d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	objs.Deployments = append(objs.Deployments, d)
	objs.ReplicaSets = append(objs.ReplicaSets, stable, canary)
	objs.Pods = append(objs.Pods, pod(t, stable, "s", false), pod(t, stable, "t", false), pod(t, canary, "c", true))
	objs.Events = append(objs.Events, event(t, "Deployment", d.Name, d.UID, 1), event(t, "ReplicaSet", canary.Name, canary.UID, 2), event(t, "ReplicaSet", stable.Name, stable.UID, 3))

	ro := argoRollout(t)
	aStable := replicaSet(t, ro.Name, ro.UID, "Rollout", argo.PodTemplateHashLabel, argo.RevisionAnnotation, 1, "6c5b4a392", t.is(StableImage, "ghcr.io/acme/good:1.9"))
	aCanary := replicaSet(t, ro.Name, ro.UID, "Rollout", argo.PodTemplateHashLabel, argo.RevisionAnnotation, 2, "8e7d6c5b4", t.is(CanaryImage, "ghcr.io/acme/good:2.0"+strings.Repeat("x", len(OSC52))))
	ro.Spec.Template = *aCanary.Spec.Template.DeepCopy()
	delete(ro.Spec.Template.Labels, argo.PodTemplateHashLabel)
	objs.Rollouts = append(objs.Rollouts, ro)
	objs.ReplicaSets = append(objs.ReplicaSets, aStable, aCanary)
	objs.Pods = append(objs.Pods, pod(t, aStable, "s", false), pod(t, aCanary, "c", true))
	objs.AnalysisRuns = append(objs.AnalysisRuns, analysisRun(t, ro, "8e7d6c5b4"))
	objs.Events = append(objs.Events, event(t, "Rollout", ro.Name, ro.UID, 4))
	return objs
}

func deployment(t *text) *appsv1.Deployment {
	replicas := int32(3)
	last, _ := json.Marshal(intent.LastAction{Action: intent.Action(t.next("halt")), User: t.next("someone"), Time: Epoch, Reason: t.next("why not"), From: 1, To: 2})
	return &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{
			Name: Deployment, Namespace: Namespace, UID: "dep-uid", Generation: 2, ResourceVersion: "10",
			CreationTimestamp: metav1.NewTime(Epoch),
			Labels:            map[string]string{"app": "evil"},
			Annotations: map[string]string{
				rollout.RevisionAnnotation:   "2",
				intent.LastActionAnnotation:  string(last),
				"pyroll.dev/metrics-preset":  t.next("preset"),
				"pyroll.dev/max-error-rate":  t.next("0.01"),
				"pyroll.dev/max-p95-latency": t.next("300ms"),
				"pyroll.dev/huge":            t.is(Huge, strings.Repeat("A", len(Huge))),
			},
		},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "evil"}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 1, ReadyReplicas: 2, AvailableReplicas: 2, UnavailableReplicas: 1,
			Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: t.next("NewReplicaSetAvailable"), Message: t.next("progressing")}}},
	}
}

func replicaSet(t *text, owner string, uid types.UID, kind, hashLabel, revisionAnnotation string, revision int, hash, image string) *appsv1.ReplicaSet {
	replicas := int32(1)
	if revision == 1 {
		replicas = 2
	}
	name := Name(fmt.Sprintf("rs%d-%s-", revision, hash), 253)
	return &appsv1.ReplicaSet{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: Namespace, UID: types.UID(name), ResourceVersion: fmt.Sprint(20 + revision),
			CreationTimestamp: metav1.NewTime(Epoch.Add(time.Duration(revision) * time.Minute)),
			Labels:            map[string]string{"app": "evil", hashLabel: hash},
			Annotations:       map[string]string{revisionAnnotation: fmt.Sprint(revision)},
			OwnerReferences:   []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: owner, UID: uid, Controller: ptr(true)}},
		},
		Spec:   appsv1.ReplicaSetSpec{Replicas: &replicas, Template: template(t, hashLabel, hash, image)},
		Status: appsv1.ReplicaSetStatus{Replicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas},
	}
}

func template(t *text, hashLabel, hash, image string) corev1.PodTemplateSpec {
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: t.next("/healthz"), Host: t.next("host"), Port: intstr.FromInt32(8080)}}}
	exec := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{t.next("check"), t.next("arg")}}}}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels: map[string]string{"app": "evil", hashLabel: hash, "org.opencontainers.image.version": t.next("label-version")},
			Annotations: map[string]string{
				"org.opencontainers.image.revision": t.next("0123456789abcdef"),
				"org.opencontainers.image.source":   "https://github.com/acme/" + t.next("repo"),
				"org.opencontainers.image.version":  t.next("2.0.0"),
				"org.opencontainers.image.created":  t.next("2026-11-22T09:00:00Z"),
				"pyroll.dev/lock-hash":              t.next("sha256:abcd"),
				"pyroll.dev/python-version":         t.next("3.12.7"),
				"pyroll.dev/pipeline-run":           t.next("https://ci.acme.dev/run/1"),
				"team.acme.dev/notes":               t.next("notes"),
				"team.acme.dev/huge":                t.is(Huge, strings.Repeat("B", len(Huge))),
			},
		},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "migrate", Image: t.next("ghcr.io/acme/migrate:1"), Args: []string{t.next("upgrade")}}},
			Containers: []corev1.Container{{
				Name: "app", Image: image,
				Command: []string{"gunicorn", t.next("app:app")},
				Args:    []string{"--bind", t.next("0.0.0.0:8080")},
				Env: []corev1.EnvVar{
					{Name: "SECRET_FROM", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: t.next("secret")}, Key: t.next("key")}}},
					{Name: "GREETING", Value: t.next("hello")},
				},
				EnvFrom:        []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: t.next("config")}}, Prefix: t.next("P_")}},
				ReadinessProbe: probe, LivenessProbe: exec,
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")}},
			}},
		},
	}
}

// addEnv gives the canary's app container EnvVars variables, hostile values among them.
func addEnv(t *text, tpl *corev1.PodTemplateSpec) {
	c := &tpl.Spec.Containers[0]
	for i := range EnvVars {
		value := fmt.Sprintf("value-%d", i)
		if i%100 == 0 {
			value = t.next("value")
		}
		c.Env = append(c.Env, corev1.EnvVar{Name: fmt.Sprintf("VAR_%05d", i), Value: value})
	}
}

func pod(t *text, rs *appsv1.ReplicaSet, suffix string, crashing bool) *corev1.Pod {
	name := Name("pod-"+suffix+"-"+rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]+rs.Labels[argo.PodTemplateHashLabel]+"-", 253)
	created := metav1.NewTime(rs.CreationTimestamp.Add(time.Second))
	image := rs.Spec.Template.Spec.Containers[0].Image
	status := corev1.ContainerStatus{Name: "app", Ready: true, Image: image,
		ImageID: t.is(image+"@sha256:"+strings.Repeat("ab", 32)+Blink, image+"@sha256:"+strings.Repeat("ab", 32)),
		State:   corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: created}}}
	ready := corev1.ConditionTrue
	if crashing {
		ready = corev1.ConditionFalse
		status.Ready, status.RestartCount = false, 4
		status.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: t.next("back-off 5m0s")}}
		status.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: t.next("Error"),
			Message: "Traceback (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\n" + t.next("    import orjson") +
				"\nModuleNotFoundError: No module named '" + t.is("orjson"+OSC52+RLO, "orjson-and-some-more-text") + "'\n"}}
	}
	p := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: Namespace, UID: types.UID(name), CreationTimestamp: created,
			Labels:          rs.Spec.Template.Labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr(true)}},
		},
		Spec: corev1.PodSpec{NodeName: t.next("node-1"), Containers: []corev1.Container{{Name: "app", Image: image}}},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: t.next("10.244.0.1"), Message: t.next("message"), Reason: t.next("reason"),
			Conditions: []corev1.PodCondition{
				{Type: corev1.PodReady, Status: ready, LastTransitionTime: created, Message: t.next("containers with unready status")},
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, Reason: t.next("Scheduled"), Message: t.next("scheduled")},
			},
			ContainerStatuses: []corev1.ContainerStatus{status},
		},
	}
	if !crashing {
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "migrate", ImageID: t.next("migrate@sha256:00"),
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: t.next("Completed"), Message: t.next("done")}}}}
	}
	return p
}

func event(t *text, kind, name string, uid types.UID, i int) *corev1.Event {
	at := metav1.NewTime(Epoch.Add(time.Duration(i) * time.Minute))
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: Name(fmt.Sprintf("ev%d-", i), 253), Namespace: Namespace, CreationTimestamp: at},
		InvolvedObject: corev1.ObjectReference{Kind: t.is(kind+Title2, kind), Name: name, UID: uid, Namespace: Namespace},
		Type:           t.is("Warning"+Blink, "Warning"), Reason: t.next("BackOff"), Count: 3,
		Message:       t.is("Back-off pulling image \""+CanaryImage+"\"\n"+Title0+RLO+"gnp.live", "Back-off pulling image \"ghcr.io/acme/good:2.0\" and some more words"),
		LastTimestamp: at,
	}
}

func argoRollout(t *text) *argo.Rollout {
	replicas := int32(3)
	plugin := json.RawMessage(fmt.Sprintf(`{"name":%q}`, t.next("argoproj-labs/step")))
	header := json.RawMessage(fmt.Sprintf(`{"name":%q}`, t.next("canary-header")))
	return &argo.Rollout{
		TypeMeta: metav1.TypeMeta{APIVersion: argo.GroupVersion.String(), Kind: "Rollout"},
		ObjectMeta: metav1.ObjectMeta{
			Name: ArgoName, Namespace: Namespace, UID: "ro-uid", Generation: 2, ResourceVersion: "30",
			CreationTimestamp: metav1.NewTime(Epoch),
			Annotations:       map[string]string{argo.RevisionAnnotation: "2", "pyroll.dev/notes": t.next("notes")},
		},
		Spec: argo.RolloutSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "evil"}},
			Strategy: argo.RolloutStrategy{Canary: &argo.CanaryStrategy{Steps: []argo.CanaryStep{
				{SetWeight: ptr(int32(20))}, {Pause: &argo.RolloutPause{}}, {Plugin: &plugin}, {SetHeaderRoute: &header},
				{Pause: &argo.RolloutPause{Duration: ptr(intstr.FromString(t.next("30s")))}},
			}}},
		},
		Status: argo.RolloutStatus{
			PauseConditions: []argo.PauseCondition{{Reason: argo.PauseReasonCanaryPauseStep, StartTime: metav1.NewTime(Epoch.Add(3 * time.Minute))}},
			ControllerPause: true, CurrentPodHash: "8e7d6c5b4", StableRS: "6c5b4a392", CurrentStepIndex: ptr(int32(1)),
			Replicas: 3, UpdatedReplicas: 1, ReadyReplicas: 2, AvailableReplicas: 2, ObservedGeneration: "2",
			Phase: t.is("Paused"+Title2, "Paused"), Message: t.next("CanaryPauseStep"),
			Conditions: []argo.RolloutCondition{{Type: "Progressing", Status: corev1.ConditionTrue, Reason: t.next("RolloutPaused"), Message: t.next("paused")}},
		},
	}
}

func analysisRun(t *text, ro *argo.Rollout, hash string) *argo.AnalysisRun {
	measure := func(phase string) argo.Measurement {
		return argo.Measurement{Phase: phase, Value: t.is("["+OSC52+"]", "[0.05]"), Message: t.next("measured")}
	}
	return &argo.AnalysisRun{
		TypeMeta: metav1.TypeMeta{APIVersion: argo.GroupVersion.String(), Kind: "AnalysisRun"},
		ObjectMeta: metav1.ObjectMeta{
			Name: Name("run-", 253), Namespace: Namespace, UID: "run-uid", CreationTimestamp: metav1.NewTime(Epoch.Add(2 * time.Minute)),
			Labels:          map[string]string{argo.PodTemplateHashLabel: hash, argo.RolloutTypeLabel: t.next("Background")},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: argo.GroupVersion.String(), Kind: "Rollout", Name: ro.Name, UID: ro.UID, Controller: ptr(true)}},
		},
		Spec: argo.AnalysisRunSpec{Metrics: []argo.Metric{{
			Name: t.next("error-rate"), SuccessCondition: t.next("result[0] < 0.01"), FailureCondition: t.next("result[0] > 0.1"),
			Provider: argo.MetricProvider{t.next("prometheus"): json.RawMessage(`{}`)},
		}}},
		Status: argo.AnalysisRunStatus{Phase: t.is("Failed"+Blink, "Failed"), Message: t.next("metric failed"),
			MetricResults: []argo.MetricResult{{Name: t.next("stray-metric"), Phase: t.next("Failed"), Message: t.next("result"), Count: 3, Failed: 2,
				Measurements: []argo.Measurement{measure(argo.AnalysisFailed), measure(argo.AnalysisError), measure(argo.AnalysisFailed)}}}},
	}
}

// Taint writes hostile text into every other string field of the objects (every field a
// future version might read), leaving what ties them together: names, UIDs, owners,
// kinds, revision numbers and pod template hashes.
func Taint(objs rollout.Objects) rollout.Objects {
	t := &text{v: Hostile}
	for _, list := range []any{objs.Deployments, objs.ReplicaSets, objs.Pods, objs.Events, objs.Rollouts, objs.AnalysisRuns} {
		taint(reflect.ValueOf(list), t, "")
	}
	return objs
}

// kept are the fields Taint leaves, by the name of their struct type and field.
var kept = map[string]bool{
	"ObjectMeta.Name": true, "ObjectMeta.Namespace": true, "ObjectMeta.UID": true, "ObjectMeta.ResourceVersion": true,
	"ObjectMeta.GenerateName": true, "TypeMeta.Kind": true, "TypeMeta.APIVersion": true,
	"OwnerReference.Kind": true, "OwnerReference.Name": true, "OwnerReference.UID": true, "OwnerReference.APIVersion": true,
	"ObjectReference.UID": true, "RolloutStatus.CurrentPodHash": true, "RolloutStatus.StableRS": true,
	"RolloutStatus.ObservedGeneration": true, "PauseCondition.Reason": true, "Quantity.Format": true,
}

// keptKeys are the labels and annotations Taint leaves.
var keptKeys = map[string]bool{
	rollout.RevisionAnnotation: true, argo.RevisionAnnotation: true, appsv1.DefaultDeploymentUniqueLabelKey: true,
	argo.PodTemplateHashLabel: true, intent.LastActionAnnotation: true,
}

func taint(v reflect.Value, t *text, field string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			taint(v.Elem(), t, field)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // raw JSON and bytes
		}
		for i := range v.Len() {
			taint(v.Index(i), t, field)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || kept[v.Type().Name()+"."+f.Name] {
				continue
			}
			taint(v.Field(i), t, v.Type().Name()+"."+f.Name)
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String || v.Type().Elem().Kind() != reflect.String {
			return
		}
		for _, k := range v.MapKeys() {
			if !keptKeys[k.String()] {
				v.SetMapIndex(k, reflect.ValueOf(t.next(field)).Convert(v.Type().Elem()))
			}
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(t.next(field))
		}
	}
}

func ptr[T any](v T) *T { return &v }

// Problems walks every string reachable from v (a view struct, a document) and says which
// hold what a terminal would obey: the path, what, and the start of the value. Strings at
// the paths ending in one of multiline may hold newlines.
func Problems(v any, multiline ...string) []string {
	var out []string
	walk(reflect.ValueOf(v), "", func(path, s string) {
		what, at, bad := safetext.Unsafe(s)
		if !bad && strings.Contains(s, "\n") && !endsInAny(path, multiline) {
			what, at, bad = "a newline", strings.Index(s, "\n"), true
		}
		if bad {
			out = append(out, fmt.Sprintf("%s: %s at byte %d of %q", path, what, at, s[:min(len(s), at+40)]))
		}
	})
	return out
}

func endsInAny(path string, suffixes []string) bool {
	for _, s := range suffixes {
		if strings.HasSuffix(path, s) {
			return true
		}
	}
	return false
}

func walk(v reflect.Value, path string, visit func(path, s string)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walk(v.Elem(), path, visit)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i), visit)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				walk(v.Field(i), path+"."+f.Name, visit)
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			walk(k, path+"{key}", visit)
			walk(v.MapIndex(k), fmt.Sprintf("%s[%v]", path, k), visit)
		}
	case reflect.String:
		visit(path, v.String())
	}
}

// BytesAllocated is how many bytes f allocates (the least of three runs, so a background
// allocation does not count).
func BytesAllocated(f func()) uint64 {
	least := ^uint64(0)
	for range 3 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// Only is what kube.ReadOne reads for the one rollout named: it, its ReplicaSets, their
// pods, the events about them and its AnalysisRuns.
func Only(objs rollout.Objects, name string) rollout.Objects {
	var one rollout.Objects
	var owner types.UID
	for _, d := range objs.Deployments {
		if d.Name == name {
			one.Deployments, owner = append(one.Deployments, d), d.UID
		}
	}
	for _, ro := range objs.Rollouts {
		if ro.Name == name {
			one.Rollouts, owner = append(one.Rollouts, ro), ro.UID
		}
	}
	mine := map[types.UID]bool{owner: true}
	for _, rs := range objs.ReplicaSets {
		if c := metav1.GetControllerOfNoCopy(rs); c != nil && c.UID == owner {
			one.ReplicaSets, mine[rs.UID] = append(one.ReplicaSets, rs), true
		}
	}
	for _, p := range objs.Pods {
		if c := metav1.GetControllerOfNoCopy(p); c != nil && mine[c.UID] {
			one.Pods = append(one.Pods, p)
		}
	}
	for _, e := range objs.Events {
		if mine[e.InvolvedObject.UID] {
			one.Events = append(one.Events, e)
		}
	}
	for _, run := range objs.AnalysisRuns {
		if c := metav1.GetControllerOfNoCopy(run); c != nil && c.UID == owner {
			one.AnalysisRuns = append(one.AnalysisRuns, run)
		}
	}
	return one
}

// Log is a crashing pod's log: coloured lines, a title, a clipboard write, a traceback whose
// exception carries an OSC 52, invalid UTF-8, a right-to-left override, a line of 64 KiB.
func Log(v Variant) string {
	if v == Clean {
		return "INFO starting\n" + "INFO " + strings.Repeat("a", 100) + "\nTraceback (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\n    import orjson\nModuleNotFoundError: No module named 'orjson'\n"
	}
	return "\x1b[32mINFO\x1b[0m starting" + Title2 + "\n" + "INFO " + OSC52 + "\xff\xfe" + RLO + "gnp.exe\n" +
		"Traceback (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\n    import orjson" + Blink + "\n" +
		"ModuleNotFoundError: No module named 'orjson" + OSC52 + "'\n" + DCS + APC + C1CSI + "\n" + Huge + "\n"
}

// Report is a metrics round over the rollouts as promclient makes it from a Prometheus
// that answers with hostile warnings and python_info labels: every revision measured, the
// canaries erring at 5%.
func Report(rollouts []rollout.Rollout, v Variant) metrics.Report {
	t := &text{v: v}
	report := metrics.Report{At: Now, Revisions: map[metrics.Key]metrics.Revision{}, Preset: safetext.Line(t.next("prometheus_client"))}
	for i := range rollouts {
		r := &rollouts[i]
		for _, rev := range r.Revisions {
			m := metrics.Revision{State: metrics.StateOK, ErrorRate: 0.001, RequestRate: 10, P95: 120 * time.Millisecond,
				Python: safetext.Line(t.next("3.12.7")), History: []float64{0.001, 0.002}, P95History: []float64{0.1, 0.12}}
			if rev.Role.IsNew() {
				m.ErrorRate = 0.05
			}
			report.Revisions[metrics.KeyOf(r, rev.Number)] = m
		}
	}
	for range 3 {
		report.Warnings = append(report.Warnings, safetext.Line(t.next("warning")))
	}
	return report
}
