package kube

import (
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// keptMeasurements is how many of an analysis metric's last measurements the cache keeps.
const keptMeasurements = 3

// PodSeen, when set before any Watcher runs, hears each pod version as the console reads
// it. Only the pprof build sets it (PYROLL_PODLOG): when the console had a change, to set
// against when the API server delivered it to another client and when it was on screen.
var PodSeen func(namespace, name, resourceVersion string)

// stripForCache keeps only what the views read. A pod becomes its rollout.PodFacts (its
// view, read once per change: about 600 bytes instead of the ten kilobytes or more the
// API returns); ReplicaSets keep their whole pod template, which revision diffs and
// rollback need. It must be idempotent: client-go may pass an object through it twice.
func stripForCache(obj any) (any, error) {
	switch o := obj.(type) {
	case *corev1.Pod:
		if PodSeen != nil {
			PodSeen(o.Namespace, o.Name, o.ResourceVersion)
		}
		return podFacts(o), nil
	case *appsv1.ReplicaSet:
		o.ManagedFields = nil
		delete(o.Annotations, lastAppliedAnnotation)
		return o, nil
	case *corev1.Event:
		return &corev1.Event{
			ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: intern(o.Namespace), UID: o.UID,
				ResourceVersion: o.ResourceVersion, CreationTimestamp: o.CreationTimestamp},
			InvolvedObject: corev1.ObjectReference{Kind: intern(o.InvolvedObject.Kind), Name: o.InvolvedObject.Name, UID: o.InvolvedObject.UID},
			Reason:         o.Reason, Message: o.Message, Type: intern(o.Type), Count: o.Count,
			LastTimestamp: o.LastTimestamp, EventTime: o.EventTime, Series: o.Series,
		}, nil
	case *appsv1.Deployment:
		o.ManagedFields = nil
		delete(o.Annotations, lastAppliedAnnotation)
		return o, nil
	case *argo.Rollout:
		o.ManagedFields = nil
		delete(o.Annotations, lastAppliedAnnotation)
		return o, nil
	case *argo.AnalysisRun:
		// The views show each metric's last measurements; argo keeps up to ten per metric
		// (more with measurementRetention), and an hour-long analysis would hold them all.
		o.ManagedFields = nil
		delete(o.Annotations, lastAppliedAnnotation)
		for i := range o.Status.MetricResults {
			if m := &o.Status.MetricResults[i]; len(m.Measurements) > keptMeasurements {
				m.Measurements = m.Measurements[len(m.Measurements)-keptMeasurements:]
			}
		}
		return o, nil
	}
	return obj, nil
}

// podFacts reads the pod, sharing the strings thousands of pods repeat.
func podFacts(p *corev1.Pod) *rollout.PodFacts {
	f := rollout.FactsOf(p)
	f.Namespace = intern(f.Namespace)
	f.View.Phase = intern(f.View.Phase)
	f.View.Node = intern(f.View.Node)
	f.View.Reason = intern(f.View.Reason)
	for i := range f.Images {
		f.Images[i].Container = intern(f.Images[i].Container)
		f.Images[i].ImageID = intern(f.Images[i].ImageID)
	}
	return f
}

// interned holds strings that thousands of cached pods repeat (namespace, node, phase,
// condition types): one copy each instead of one per pod.
var interned = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

const maxInterned = 50000

// intern takes any string type: a safetext.Text comes back as the same text.
func intern[S ~string](s S) S {
	if s == "" {
		return ""
	}
	interned.Lock()
	defer interned.Unlock()
	if v, ok := interned.m[string(s)]; ok {
		return S(v)
	}
	if len(interned.m) < maxInterned {
		interned.m[string(s)] = string(s)
	}
	return s
}
