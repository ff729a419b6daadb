package kube

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi/kubeapitest"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/rollout/rollouttest"
)

// countingAPI counts what the watcher asks of Argo Rollouts.
type countingAPI struct {
	kubeapi.API
	serves, rollouts, analysisRuns atomic.Int32
}

func (c *countingAPI) ServesArgoRollouts(ctx context.Context) (bool, error) {
	c.serves.Add(1)
	return c.API.ServesArgoRollouts(ctx)
}

func (c *countingAPI) Rollouts(ns string) kubeapi.Resource[*argo.Rollout, *argo.RolloutList] {
	c.rollouts.Add(1)
	return c.API.Rollouts(ns)
}

func (c *countingAPI) AnalysisRuns(ns string) kubeapi.Resource[*argo.AnalysisRun, *argo.AnalysisRunList] {
	c.analysisRuns.Add(1)
	return c.API.AnalysisRuns(ns)
}

// answerAccessReviews makes the clientset answer every SelfSubjectAccessReview with
// allowed, and counts them.
func answerAccessReviews(client *fake.Clientset, allowed bool) *atomic.Int32 {
	var asked atomic.Int32
	client.PrependReactor("create", "selfsubjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		asked.Add(1)
		review := action.(k8stesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview).DeepCopy()
		review.Status.Allowed = allowed
		return true, review, nil
	})
	return &asked
}

// firstSynced is the first synced snapshot (the one a console shows first).
func firstSynced(t *testing.T, snaps <-chan rollout.Snapshot) rollout.Snapshot {
	t.Helper()
	return nextSynced(t, snaps, func(rollout.Snapshot) bool { return true })
}

// On a cluster without Argo Rollouts the watcher asks once whether they are served and
// never touches them again: no informer, no access review, the Deployments as before.
func TestWatcherWithoutArgoShowsDeploymentsAsBefore(t *testing.T) {
	d, rs := testDeployment()
	client := fake.NewClientset(d, rs, testPod(0), testPod(1))
	reviews := answerAccessReviews(client, true)
	api := &countingAPI{API: kubeapitest.FromClientset(client)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snaps := NewWatcher(&Cluster{Client: api, Namespace: "shop", Health: &Health{}}, WatchOptions{Namespace: "shop"}).Run(ctx)

	s := firstSynced(t, snaps)
	if len(s.Rollouts) != 1 || s.Rollouts[0].Kind != ref.Deployment || s.Rollouts[0].Phase != rollout.PhaseComplete || len(s.Rollouts[0].Revisions[0].Pods) != 2 {
		t.Fatalf("snapshot %+v", s.Rollouts)
	}
	if s.Conn.State != rollout.ConnLive {
		t.Errorf("state %s, want live", s.Conn.State)
	}
	if api.serves.Load() != 1 || api.rollouts.Load() != 0 || api.analysisRuns.Load() != 0 || reviews.Load() != 0 {
		t.Errorf("asked served %d times, rollouts %d, analysisruns %d, access reviews %d; want served once and nothing else",
			api.serves.Load(), api.rollouts.Load(), api.analysisRuns.Load(), reviews.Load())
	}
}

// argoWatchCluster serves team-0's Argo Rollout checkout-000 (rollouttest.SyntheticArgo)
// beside a Deployment, service-000 (rollouttest.Synthetic), answering the access review
// for watching rollouts with allowed.
func argoWatchCluster(allowed bool) (*Cluster, *kubeapitest.ArgoAPI, *atomic.Int32) {
	objs := rollouttest.SyntheticArgo(1, 5)
	deps := rollouttest.Synthetic(1, 3)
	var core []runtime.Object
	for _, d := range deps.Deployments {
		core = append(core, d)
	}
	for _, rs := range slices.Concat(objs.ReplicaSets, deps.ReplicaSets) {
		core = append(core, rs)
	}
	for _, p := range slices.Concat(objs.Pods, deps.Pods) {
		core = append(core, p)
	}
	client := fake.NewClientset(core...)
	reviews := answerAccessReviews(client, allowed)
	api := kubeapitest.WithArgo(kubeapitest.FromClientset(client), objs.Rollouts[0], objs.AnalysisRuns[0])
	return &Cluster{Client: api, Namespace: "team-0", Health: &Health{}}, api, reviews
}

func kinds(s rollout.Snapshot) []string {
	var out []string
	for _, r := range s.Rollouts {
		out = append(out, string(r.Kind)+"/"+r.Name)
	}
	slices.Sort(out)
	return out
}

// argoRow is the snapshot's Argo Rollout (a zero one with an empty Argo view if none).
func argoRow(s rollout.Snapshot) rollout.Rollout {
	for _, row := range s.Rollouts {
		if row.Kind == ref.ArgoRollout {
			return row
		}
	}
	return rollout.Rollout{Argo: &rollout.Argo{}}
}

func TestWatcherShowsArgoRolloutsWhenReadable(t *testing.T) {
	cluster, _, reviews := argoWatchCluster(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	snaps := NewWatcher(cluster, WatchOptions{Namespace: "team-0"}).Run(ctx)
	s := firstSynced(t, snaps)
	if got, want := kinds(s), []string{"Deployment/service-000", "Rollout/checkout-000"}; !slices.Equal(got, want) {
		t.Fatalf("first synced snapshot %v, want %v", got, want)
	}
	if reviews.Load() != 1 || s.Conn.State != rollout.ConnLive {
		t.Errorf("%d access reviews, state %s; want one review, live", reviews.Load(), s.Conn.State)
	}
	r := argoRow(s)
	if len(r.Argo.Analysis) == 0 {
		// AnalysisRuns are best-effort (as events): they may list after the first synced snapshot.
		r = argoRow(nextSynced(t, snaps, func(s rollout.Snapshot) bool { return len(argoRow(s).Argo.Analysis) > 0 }))
	}
	if r.Phase != rollout.PhasePaused || r.Argo == nil || r.Argo.Step != "1/4 20%" || r.CanaryRevision != 2 || r.StableRevision != 1 ||
		len(r.Revisions) != 2 || len(r.Canary().Pods) != 1 || len(r.Argo.Analysis) != 1 || len(r.Argo.Analysis[0].Metrics[0].Values) != 3 {
		t.Errorf("rollout row %+v (argo %+v)", r, r.Argo)
	}
}

// A user who may not watch rollouts sees the Deployments, synced and live: no informer is
// left listing what it cannot.
func TestWatcherWithoutAccessToRolloutsStillSyncs(t *testing.T) {
	cluster, api, reviews := argoWatchCluster(false)
	var rolloutRequests atomic.Int32
	api.Fake.PrependReactor("*", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
		rolloutRequests.Add(1)
		return true, nil, apierrors.NewForbidden(argo.GroupVersion.WithResource("rollouts").GroupResource(), "", errors.New("test: no access"))
	})
	api.Fake.PrependWatchReactor("*", func(k8stesting.Action) (bool, watch.Interface, error) {
		rolloutRequests.Add(1)
		return true, nil, apierrors.NewForbidden(argo.GroupVersion.WithResource("rollouts").GroupResource(), "", errors.New("test: no access"))
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := firstSynced(t, NewWatcher(cluster, WatchOptions{Namespace: "team-0"}).Run(ctx))
	if got, want := kinds(s), []string{"Deployment/service-000"}; !slices.Equal(got, want) {
		t.Errorf("snapshot %v, want %v", got, want)
	}
	if s.Conn.State != rollout.ConnLive || reviews.Load() != 1 || rolloutRequests.Load() != 0 {
		t.Errorf("state %s, %d access reviews, %d requests for rollouts; want live, one review, none", s.Conn.State, reviews.Load(), rolloutRequests.Load())
	}
}

func TestReadOneReadsAnArgoRollout(t *testing.T) {
	objs := rollouttest.SyntheticArgo(6, 3) // team-0 holds checkout-000 and checkout-005
	var core []runtime.Object
	for _, rs := range objs.ReplicaSets {
		core = append(core, rs)
	}
	for _, p := range objs.Pods {
		core = append(core, p)
	}
	var tracked []runtime.Object
	for _, ro := range objs.Rollouts {
		tracked = append(tracked, ro)
	}
	for _, run := range objs.AnalysisRuns {
		tracked = append(tracked, run)
	}
	mine := objs.Rollouts[0]
	// A run of the same revision hash in the namespace, not controlled by any Rollout.
	orphan := rollouttest.AnalysisRun(mine, "9f8e7d6c5", argo.AnalysisFailed, "[0.5]")
	orphan.Name, orphan.UID, orphan.OwnerReferences = "adhoc", "adhoc", nil
	tracked = append(tracked, orphan)

	for _, workloadRef := range []bool{false, true} {
		name := "inline template"
		if workloadRef {
			name = "workloadRef: the selector from status.selector"
		}
		t.Run(name, func(t *testing.T) {
			if workloadRef {
				ro := mine.DeepCopy()
				ro.Spec.Selector = nil
				ro.Spec.WorkloadRef = &argo.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "checkout-src"}
				tracked[0] = ro
			}
			api := kubeapitest.WithArgo(kubeapitest.FromClientset(fake.NewClientset(core...)), tracked...)
			got, err := ReadOne(context.Background(), api, ref.Rollout{Kind: ref.ArgoRollout, Namespace: "team-0", Name: mine.Name})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Rollouts) != 1 || got.Rollouts[0].UID != mine.UID || len(got.Deployments) != 0 {
				t.Fatalf("read rollouts %v, deployments %d; want %s alone", got.Rollouts, len(got.Deployments), mine.Name)
			}
			if len(got.ReplicaSets) != 2 || len(got.Pods) != 3 {
				t.Errorf("read %d replicasets and %d pods, want its 2 and 3", len(got.ReplicaSets), len(got.Pods))
			}
			for _, rs := range got.ReplicaSets {
				if owner := metav1.GetControllerOfNoCopy(rs); owner == nil || owner.UID != mine.UID {
					t.Errorf("replicaset %s is not %s's", rs.Name, mine.Name)
				}
			}
			for _, p := range got.Pods {
				if !strings.HasPrefix(p.Name, mine.Name+"-") {
					t.Errorf("pod %s is not %s's", p.Name, mine.Name)
				}
			}
			if len(got.AnalysisRuns) != 1 || got.AnalysisRuns[0].Name != mine.Name+"-9f8e7d6c5-2" {
				var names []string
				for _, run := range got.AnalysisRuns {
					names = append(names, run.Name)
				}
				t.Errorf("analysis runs %v, want only %s's own", names, mine.Name)
			}
		})
	}
}

func TestResolveAgainstTheAPI(t *testing.T) {
	ctx := context.Background()
	objs := rollouttest.SyntheticArgo(1, 3) // team-0/checkout-000
	deps := rollouttest.Synthetic(1, 3)     // team-0/service-000
	twin := deps.Deployments[0].DeepCopy()
	twin.Name, twin.UID = "checkout-000", "twin"
	api := kubeapitest.WithArgo(kubeapitest.FromClientset(fake.NewClientset(deps.Deployments[0])), objs.Rollouts[0])
	both := kubeapitest.WithArgo(kubeapitest.FromClientset(fake.NewClientset(twin)), objs.Rollouts[0])

	got, err := Resolve(ctx, api, ref.Rollout{Namespace: "team-0", Name: "checkout-000"})
	if err != nil || got.Kind != ref.ArgoRollout {
		t.Errorf("checkout-000 (a Rollout only): %v, %v; want the Rollout", got, err)
	}
	got, err = Resolve(ctx, api, ref.Rollout{Namespace: "team-0", Name: "service-000"})
	if err != nil || got.Kind != ref.Deployment {
		t.Errorf("service-000 (a Deployment only): %v, %v; want the Deployment", got, err)
	}
	if _, err := Resolve(ctx, both, ref.Rollout{Namespace: "team-0", Name: "checkout-000"}); err == nil ||
		!strings.Contains(err.Error(), "deployment/checkout-000 or rollout/checkout-000") {
		t.Errorf("checkout-000 as both kinds: %v; want an error naming both", err)
	}

	noArgo := kubeapitest.FromClientset(fake.NewClientset(deps.Deployments[0]))
	got, err = Resolve(ctx, noArgo, ref.Rollout{Namespace: "team-0", Name: "service-000"})
	if err != nil || got.Kind != ref.Deployment {
		t.Errorf("service-000 on a cluster without Argo: %v, %v; want the Deployment", got, err)
	}

	forbidden := kubeapitest.WithArgo(kubeapitest.FromClientset(fake.NewClientset(twin)), objs.Rollouts[0])
	forbidden.Fake.PrependReactor("get", "rollouts", func(action k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(action.GetResource().GroupResource(), "checkout-000", errors.New("User \"viewer\" cannot get resource \"rollouts\""))
	})
	got, err = Resolve(ctx, forbidden, ref.Rollout{Namespace: "team-0", Name: "checkout-000"})
	if err != nil || got.Kind != ref.Deployment {
		t.Errorf("checkout-000 for a user who may not get rollouts: %v, %v; want the Deployment", got, err)
	}
}

// A user who may watch rollouts but not list analysisruns (RBAC granting rollouts alone)
// still gets a synced, live snapshot with the Rollout: analysis is shown when readable,
// as events are, and never holds the console at "syncing".
func TestWatcherWithoutAccessToAnalysisRunsStillSyncs(t *testing.T) {
	cluster, api, _ := argoWatchCluster(true)
	forbidden := apierrors.NewForbidden(argo.GroupVersion.WithResource("analysisruns").GroupResource(), "", errors.New("test: no access"))
	api.Fake.PrependReactor("*", "analysisruns", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, forbidden })
	api.Fake.PrependWatchReactor("analysisruns", func(k8stesting.Action) (bool, watch.Interface, error) { return true, nil, forbidden })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := firstSynced(t, NewWatcher(cluster, WatchOptions{Namespace: "team-0"}).Run(ctx))
	if got, want := kinds(s), []string{"Deployment/service-000", "Rollout/checkout-000"}; !slices.Equal(got, want) {
		t.Errorf("snapshot %v, want %v", got, want)
	}
	if s.Conn.State != rollout.ConnLive {
		t.Errorf("state %s, want live", s.Conn.State)
	}
}

// Without access to analysisruns a Rollout still reads (without its analysis), as without
// access to events: history, diff and the actions (abort, the emergency brake) read this way.
func TestReadOneOfARolloutWithoutAccessToAnalysisRuns(t *testing.T) {
	objs := rollouttest.SyntheticArgo(1, 3)
	var core []runtime.Object
	for _, rs := range objs.ReplicaSets {
		core = append(core, rs)
	}
	for _, p := range objs.Pods {
		core = append(core, p)
	}
	api := kubeapitest.WithArgo(kubeapitest.FromClientset(fake.NewClientset(core...)), objs.Rollouts[0], objs.AnalysisRuns[0])
	api.Fake.PrependReactor("list", "analysisruns", func(action k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(action.GetResource().GroupResource(), "", errors.New(`User "oncall" cannot list resource "analysisruns"`))
	})
	got, err := ReadOne(context.Background(), api, ref.Rollout{Kind: ref.ArgoRollout, Namespace: "team-0", Name: "checkout-000"})
	if err != nil {
		t.Fatalf("ReadOne: %v; want the rollout without its analysis", err)
	}
	if len(got.Rollouts) != 1 || len(got.ReplicaSets) != 2 || len(got.Pods) != 3 || len(got.AnalysisRuns) != 0 {
		t.Errorf("read %d rollouts, %d replicasets, %d pods, %d analysis runs; want 1, 2, 3, 0",
			len(got.Rollouts), len(got.ReplicaSets), len(got.Pods), len(got.AnalysisRuns))
	}
}
