// Package rollouttest makes large, realistic sets of rollout objects for benchmarks: pods
// shaped like what the API server returns (managed fields, env, probes, volumes,
// conditions), so that memory and speed figures mean something.
package rollouttest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/pyroll/kubectl-pyroll/internal/rollout"
)

// Epoch is the creation time of every synthetic object; benchmarks build at Epoch+1h.
var Epoch = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

// Synthetic returns deployments rollouts, each with a stable and a canary ReplicaSet and
// podsPerDeployment pods split between them; every tenth canary crash-loops.
func Synthetic(deployments, podsPerDeployment int) rollout.Objects {
	var objs rollout.Objects
	for i := 0; i < deployments; i++ {
		ns := fmt.Sprintf("team-%d", i%5)
		name := fmt.Sprintf("service-%03d", i)
		d := deployment(ns, name, int32(podsPerDeployment))
		stable := replicaSet(d, 1, "a1b2c3d4", "1.0.0", int32(podsPerDeployment-1))
		canary := replicaSet(d, 2, "e5f6a7b8", "1.1.0", 1)
		d.Spec.Template = canary.Spec.Template
		objs.Deployments = append(objs.Deployments, d)
		objs.ReplicaSets = append(objs.ReplicaSets, stable, canary)
		for j := 0; j < podsPerDeployment; j++ {
			owner := stable
			if j == 0 {
				owner = canary
			}
			objs.Pods = append(objs.Pods, Pod(owner, j, i%10 == 0 && owner == canary))
		}
	}
	return objs
}

// Cached is objs as a watch cache holds them: each pod read once into its PodFacts.
func Cached(objs rollout.Objects) rollout.Objects {
	cached := objs
	cached.Pods = nil
	for _, p := range objs.Pods {
		cached.PodFacts = append(cached.PodFacts, rollout.FactsOf(p))
	}
	return cached
}

func deployment(ns, name string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns, UID: types.UID(ns + "/" + name), Generation: 2,
			CreationTimestamp: metav1.NewTime(Epoch),
			Labels:            map[string]string{"app": name},
			Annotations:       map[string]string{rollout.RevisionAnnotation: "2"},
		},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: replicas + 1, UpdatedReplicas: 1,
			ReadyReplicas: replicas, AvailableReplicas: replicas},
	}
}

func replicaSet(d *appsv1.Deployment, revision int, hash, version string, replicas int32) *appsv1.ReplicaSet {
	name := d.Name + "-" + hash
	return &appsv1.ReplicaSet{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: d.Namespace, UID: types.UID(d.Namespace + "/" + name), ResourceVersion: "4242",
			CreationTimestamp: metav1.NewTime(Epoch.Add(time.Duration(revision) * time.Minute)),
			Labels:            map[string]string{"app": d.Name, appsv1.DefaultDeploymentUniqueLabelKey: hash},
			Annotations:       map[string]string{rollout.RevisionAnnotation: fmt.Sprint(revision)},
			OwnerReferences:   []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: ptr(true)}},
		},
		Spec:   appsv1.ReplicaSetSpec{Replicas: &replicas, Template: template(d.Name, hash, version)},
		Status: appsv1.ReplicaSetStatus{Replicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas},
	}
}

func template(app, hash, version string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{
			Labels: map[string]string{"app": app, appsv1.DefaultDeploymentUniqueLabelKey: hash},
			Annotations: map[string]string{
				"org.opencontainers.image.revision": strings.Repeat(hash, 5),
				"org.opencontainers.image.source":   "https://github.com/acme/" + app,
				"org.opencontainers.image.version":  version,
				"pyroll.dev/lock-hash":              "sha256:" + hash,
				"pyroll.dev/python-version":         "3.12.7",
			},
		},
		Spec: corev1.PodSpec{Containers: []corev1.Container{container(app, version)}},
	}
}

func container(app, version string) corev1.Container {
	env := []corev1.EnvVar{}
	for _, k := range []string{"DATABASE_URL", "REDIS_URL", "LOG_LEVEL", "WORKERS", "SENTRY_DSN", "FEATURE_FLAGS", "OTEL_EXPORTER"} {
		env = append(env, corev1.EnvVar{Name: k, Value: "value-of-" + strings.ToLower(k) + "-for-" + app})
	}
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health/ready", Port: intstr.FromInt32(8080)}}, PeriodSeconds: 10}
	return corev1.Container{
		Name: "app", Image: "ghcr.io/acme/" + app + ":" + version,
		Command: []string{"gunicorn", "--bind", "0.0.0.0:8080", "--workers", "4", "app:app"},
		Ports:   []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
		Env:     env, ReadinessProbe: probe, LivenessProbe: probe,
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
		},
		VolumeMounts:             []corev1.VolumeMount{{Name: "kube-api-access", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true}},
		TerminationMessagePath:   "/dev/termination-log",
		TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
		ImagePullPolicy:          corev1.PullIfNotPresent,
	}
}

// Pod is a pod of rs as the API server returns it; crashing makes it crash-loop.
func Pod(rs *appsv1.ReplicaSet, i int, crashing bool) *corev1.Pod {
	name := fmt.Sprintf("%s-%05d", rs.Name, i)
	created := metav1.NewTime(rs.CreationTimestamp.Add(time.Second))
	managed := func(manager, fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", Time: &created,
			FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}
	}
	spec := rs.Spec.Template.Spec.DeepCopy()
	spec.NodeName = fmt.Sprintf("node-%d", i%50)
	spec.ServiceAccountName = "default"
	spec.Volumes = []corev1.Volume{{Name: "kube-api-access", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
		{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr(int64(3607))}},
		{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
	}}}}}
	spec.Tolerations = []corev1.Toleration{
		{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
		{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))},
	}
	status := corev1.ContainerStatus{Name: "app", Ready: true, Started: ptr(true), Image: spec.Containers[0].Image,
		ImageID: spec.Containers[0].Image + "@sha256:" + strings.Repeat("ab", 32), ContainerID: "containerd://" + strings.Repeat("cd", 32),
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: created}}}
	ready := corev1.ConditionTrue
	if crashing {
		ready = corev1.ConditionFalse
		status.Ready = false
		status.RestartCount = 7
		status.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 5m0s restarting failed container=app"}}
		status.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error",
			Message: "Traceback (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\n    import orjson\nModuleNotFoundError: No module named 'orjson'"}}
	}
	cond := func(t corev1.PodConditionType, s corev1.ConditionStatus) corev1.PodCondition {
		return corev1.PodCondition{Type: t, Status: s, LastTransitionTime: created}
	}
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: rs.Namespace, UID: types.UID(rs.Namespace + "/" + name), ResourceVersion: "123456",
			GenerateName: rs.Name + "-", CreationTimestamp: created,
			Labels:          rs.Spec.Template.Labels,
			Annotations:     rs.Spec.Template.Annotations,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: ptr(true), BlockOwnerDeletion: ptr(true)}},
			ManagedFields: []metav1.ManagedFieldsEntry{
				managed("kube-controller-manager", `{"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app":{},"f:pod-template-hash":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"x\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:command":{},"f:env":{".":{},"k:{\"name\":\"DATABASE_URL\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:imagePullPolicy":{},"f:livenessProbe":{},"f:name":{},"f:ports":{},"f:readinessProbe":{},"f:resources":{}}}}}`),
				managed("kubelet", `{"f:status":{"f:conditions":{"k:{\"type\":\"ContainersReady\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Initialized\"}":{},"k:{\"type\":\"Ready\"}":{}},"f:containerStatuses":{},"f:hostIP":{},"f:phase":{},"f:podIP":{},"f:podIPs":{".":{},"k:{\"ip\":\"10.244.0.1\"}":{}},"f:startTime":{}}}`),
			},
		},
		Spec: *spec,
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, HostIP: "10.0.0.1", PodIP: fmt.Sprintf("10.244.%d.%d", i/250, i%250),
			HostIPs: []corev1.HostIP{{IP: "10.0.0.1"}}, PodIPs: []corev1.PodIP{{IP: fmt.Sprintf("10.244.%d.%d", i/250, i%250)}},
			StartTime: &created, QOSClass: corev1.PodQOSBurstable,
			Conditions: []corev1.PodCondition{
				cond("PodReadyToStartContainers", corev1.ConditionTrue), cond(corev1.PodInitialized, corev1.ConditionTrue),
				cond(corev1.PodReady, ready), cond(corev1.ContainersReady, ready), cond(corev1.PodScheduled, corev1.ConditionTrue),
			},
			ContainerStatuses: []corev1.ContainerStatus{status},
		},
	}
}

func ptr[T any](v T) *T { return &v }

// Grouped is pods grouped by ReplicaSet as a watcher's index hands them over
// (Objects.PodsByOwner): a group's slice stays the same while none of its pods changed,
// and a change makes a new one.
type Grouped map[types.UID][]*rollout.PodFacts

// GroupByOwner groups the pods by the UID of their ReplicaSet.
func GroupByOwner(pods []*rollout.PodFacts) Grouped {
	g := Grouped{}
	for _, p := range pods {
		g[p.Owner] = append(g[p.Owner], p)
	}
	return g
}

// Replace puts f in place of the pod of its name, in a new slice for its group.
func (g Grouped) Replace(f *rollout.PodFacts) {
	group := slices.Clone(g[f.Owner])
	for i, p := range group {
		if p.View.Name == f.View.Name {
			group[i] = f
		}
	}
	g[f.Owner] = group
}

// Flat is every pod, in no order.
func (g Grouped) Flat() []*rollout.PodFacts {
	var out []*rollout.PodFacts
	for _, group := range g {
		out = append(out, group...)
	}
	return out
}
