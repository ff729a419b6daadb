package kube

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/owner"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
)

// OwnerReader reads the GitOps owner of a rollout when someone needs it (the detail, a
// confirmation, an action, the guard): one GET of the owner object (for Helm one LIST of
// the release's deployed Secret, by label), never a watch of every Application or
// release Secret in the cluster. What it read is kept by owner and resourceVersion: an
// unchanged object is not decoded again (a Helm release is a gzip of the whole chart),
// and within MaxAge of a read it is not asked for again at all.
//
// A refused read (Forbidden) is the view's NoAccess, a missing object its Absent: "managed
// by Argo CD app X (self-heal unknown: no access)", never an error. Safe for concurrent use.
type OwnerReader struct {
	client kubeapi.API
	maxAge time.Duration
	clock  clock.PassiveClock

	mu    sync.Mutex
	cache map[owner.Ref]*ownerEntry
}

// OwnerReaderOptions tune an OwnerReader.
type OwnerReaderOptions struct {
	// MaxAge is how long a read answers without asking again (default 5 s; a negative
	// MaxAge asks every time, still decoding only what changed).
	MaxAge time.Duration
	// Clock (default the real one).
	Clock clock.PassiveClock
}

// DefaultOwnerMaxAge is OwnerReaderOptions.MaxAge's default: a detail redrawn on every
// snapshot does not send a GET each time, and a change of policy shows within seconds.
const DefaultOwnerMaxAge = 5 * time.Second

type ownerEntry struct {
	readAt time.Time
	// view is the owner's view as last read (Argo CD, Flux), or the Helm view without
	// its live parts (drift, server-side apply), which depend on the rollout object.
	view owner.View
	// secret is the Helm release Secret's name and resourceVersion the release came from.
	secret, secretRV string
}

// NewOwnerReader reads owners through client.
func NewOwnerReader(client kubeapi.API, opts OwnerReaderOptions) *OwnerReader {
	if opts.MaxAge == 0 {
		opts.MaxAge = DefaultOwnerMaxAge
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &OwnerReader{client: client, maxAge: opts.MaxAge, clock: opts.Clock, cache: map[owner.Ref]*ownerEntry{}}
}

// OwnerTarget is the rollout whose owner is read.
type OwnerTarget struct {
	Kind ref.Kind
	// Object is the live rollout object (its managed fields say whether Helm applies
	// server-side).
	Object metav1.Object
	// Template is its pod template, compared with a Helm release's manifest.
	Template *corev1.PodTemplateSpec
}

// Read is the view of d's owner (d from owner.Detect on target.Object). The zero View
// when d names none.
func (r *OwnerReader) Read(ctx context.Context, d owner.Detection, target OwnerTarget) owner.View {
	if d.Owner == nil {
		return owner.View{}
	}
	key := *d.Owner
	r.mu.Lock()
	entry := r.cache[key]
	fresh := entry != nil && r.maxAge > 0 && r.clock.Since(entry.readAt) < r.maxAge
	r.mu.Unlock()
	if !fresh {
		entry = r.read(ctx, d, entry)
	}
	v := entry.view
	v.Ref = *d.Owner
	v.ReconcileDisabled = d.ReconcileDisabled
	if key.Kind == owner.KindRelease {
		if target.Object != nil {
			v.ServerSideApply = owner.HelmAppliesServerSide(target.Object.GetManagedFields())
		}
		if v.Access == owner.Read && v.Release != nil && target.Object != nil {
			v = owner.WithRelease(v, v.Release, string(target.Kind), target.Object.GetName(), target.Template)
		}
	}
	return v
}

// read asks the API server and updates the cache; prev is the entry read before (nil if
// none). An answer that is neither the object nor a refusal (the server unreachable)
// keeps what was read before, if anything.
func (r *OwnerReader) read(ctx context.Context, d owner.Detection, prev *ownerEntry) *ownerEntry {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	next := &ownerEntry{readAt: r.clock.Now()}
	var err error
	switch d.Owner.Kind {
	case owner.KindRelease:
		err = r.readRelease(ctx, d, prev, next)
	default:
		err = r.readObject(ctx, d, prev, next)
	}
	switch {
	case err == nil:
	case apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
		next.view = owner.UnreadView(d, owner.NoAccess, kubeapi.Message(err))
	case apierrors.IsNotFound(err):
		next.view = owner.UnreadView(d, owner.Absent, kubeapi.Message(err))
	case prev != nil && prev.view.Access != owner.Unread:
		// Keep the last answer; ask again at the next read.
		return prev
	default:
		next.view = owner.UnreadView(d, owner.Unread, kubeapi.Message(err))
		next.readAt = time.Time{}
	}
	r.mu.Lock()
	r.cache[*d.Owner] = next
	r.mu.Unlock()
	return next
}

// readObject GETs an Argo CD Application or a Flux Kustomization/HelmRelease.
func (r *OwnerReader) readObject(ctx context.Context, d owner.Detection, prev, next *ownerEntry) error {
	ref := d.Owner
	obj, err := r.client.GetCustom(ctx, ref.Resource(), ref.Namespace, ref.Name)
	if err != nil {
		return err
	}
	if prev != nil && prev.view.Access == owner.Read && prev.view.ResourceVersion == obj.GetResourceVersion() {
		next.view = prev.view // unchanged: not decoded again
		return nil
	}
	if ref.Kind == owner.KindApplication {
		next.view = owner.FromApplication(d, obj)
	} else {
		next.view = owner.FromFlux(d, obj)
	}
	return nil
}

// readRelease LISTs the deployed release Secret of a Helm release, by label, in the
// release's namespace, and decodes it unless it is the one decoded before.
func (r *OwnerReader) readRelease(ctx context.Context, d owner.Detection, prev, next *ownerEntry) error {
	ref := d.Owner
	list, err := r.client.Secrets(ref.Namespace).List(ctx, metav1.ListOptions{LabelSelector: owner.HelmReleaseSelector(ref.Name)})
	if err != nil {
		return err
	}
	secret := owner.DeployedRelease(list.Items)
	if secret == nil {
		next.view = owner.FromRelease(d, nil, "", "", nil, nil)
		return nil
	}
	next.secret, next.secretRV = secret.Name, secret.ResourceVersion
	if prev != nil && prev.view.Access == owner.Read && prev.secret == secret.Name && prev.secretRV == secret.ResourceVersion {
		next.view = prev.view
		return nil
	}
	next.view = owner.FromRelease(d, secret, "", "", nil, nil)
	return nil
}

// ReadFor is the view of the owner d names of rollout target, with, for a Helm release,
// the live object read (one GET): the informers' caches drop managed fields, which say
// whether Helm applies server-side, and the release's drift is judged on the template as
// the API server holds it now. Argo CD and Flux views need only their owner object.
func (r *OwnerReader) ReadFor(ctx context.Context, target ref.Rollout, d owner.Detection) owner.View {
	if d.Owner == nil || d.Owner.Kind != owner.KindRelease {
		return r.Read(ctx, d, OwnerTarget{Kind: target.Kind})
	}
	t := OwnerTarget{Kind: target.Kind}
	switch target.Kind {
	case ref.Deployment:
		if dep, err := r.client.Deployments(target.Namespace).Get(ctx, target.Name, metav1.GetOptions{}); err == nil {
			t.Object, t.Template = dep, &dep.Spec.Template
		}
	case ref.ArgoRollout:
		if ro, err := r.client.Rollouts(target.Namespace).Get(ctx, target.Name, metav1.GetOptions{}); err == nil {
			t.Object, t.Template = ro, &ro.Spec.Template
		}
	}
	return r.Read(ctx, d, t)
}
