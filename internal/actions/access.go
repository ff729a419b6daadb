package actions

import (
	"context"
	"fmt"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"

	"github.com/pyroll/kubectl-pyroll/internal/intent"
	"github.com/pyroll/kubectl-pyroll/internal/kubeapi"
	"github.com/pyroll/kubectl-pyroll/internal/ref"
	"github.com/pyroll/kubectl-pyroll/internal/safetext"
)

// Access answers "may I?" for the actions, from SelfSubjectAccessReviews, cached briefly
// so that the console can grey out keys without asking the API server on every frame.
type Access struct {
	Client   kubeapi.API
	ReadOnly bool
	// ReadOnlyReason is why, when ReadOnly ("": --read-only).
	ReadOnlyReason string
	TTL            time.Duration

	mu    sync.Mutex
	cache map[intent.Scope]cachedPermissions
}

type cachedPermissions struct {
	at    time.Time
	perms intent.Permissions
}

type check struct {
	verb, group, resource, subresource string
}

var (
	patchDeployments    = check{"patch", "apps", "deployments", ""}
	updateDeployments   = check{"update", "apps", "deployments", ""}
	patchRollouts       = check{"patch", "argoproj.io", "rollouts", ""}
	patchRolloutsStatus = check{"patch", "argoproj.io", "rollouts", "status"}
)

// What each action writes, per kind: a Deployment's halt and promote patch it, its
// rollback replaces the template (update); an Argo Rollout's abort, promote and retry
// patch its status subresource and then the Rollout (unpause, the audit annotation), its
// undo patches the Rollout. Each also records an Event, but a refused Event does not stop
// the action. An action a kind does not offer has no row.
var needs = map[ref.Kind]map[intent.Action][]check{
	ref.Deployment: {
		intent.Halt:     {patchDeployments},
		intent.Promote:  {patchDeployments},
		intent.Rollback: {updateDeployments},
	},
	ref.ArgoRollout: {
		intent.Halt:        {patchRolloutsStatus, patchRollouts},
		intent.Promote:     {patchRolloutsStatus, patchRollouts},
		intent.PromoteFull: {patchRolloutsStatus, patchRollouts},
		intent.Retry:       {patchRolloutsStatus, patchRollouts},
		intent.Rollback:    {patchRollouts},
	},
}

// Permissions returns what the user may do to rollouts of one kind in one namespace.
func (a *Access) Permissions(ctx context.Context, scope intent.Scope) intent.Permissions {
	perms := intent.Permissions{Denied: map[intent.Action]string{}}
	kindNeeds := needs[scope.Kind]
	for _, action := range intent.Actions {
		switch _, offered := kindNeeds[action]; {
		case !offered:
			perms.Denied[action] = fmt.Sprintf("a %s has no %s", scope.Kind, action.Name(scope.Kind))
		case a.ReadOnly:
			perms.Denied[action] = a.readOnlyReason()
		}
	}
	if a.ReadOnly {
		return perms
	}
	a.mu.Lock()
	if c, ok := a.cache[scope]; ok && time.Since(c.at) < a.ttl() {
		a.mu.Unlock()
		return c.perms
	}
	a.mu.Unlock()
	answers := map[check]string{}
	for action, checks := range kindNeeds {
		for _, c := range checks {
			reason, asked := answers[c]
			if !asked {
				reason = a.review(ctx, scope.Namespace, c)
				answers[c] = reason
			}
			if reason != "" {
				perms.Denied[action] = reason
				break
			}
		}
	}
	a.mu.Lock()
	if a.cache == nil {
		a.cache = map[intent.Scope]cachedPermissions{}
	}
	a.cache[scope] = cachedPermissions{at: time.Now(), perms: perms}
	a.mu.Unlock()
	return perms
}

// readOnlyReason is why nothing may be written: the session's reason (a key without
// pyroll-write, a server without --allow-write), else --read-only.
func (a *Access) readOnlyReason() string {
	if a.ReadOnlyReason != "" {
		return a.ReadOnlyReason
	}
	return "read-only (--read-only)"
}

// refuse is a *RefusedError when the access forbids req whatever RBAC says; nil otherwise
// (RBAC is the API server's to enforce). No access at all refuses too: a Service built
// without one must not act as if everything were allowed.
func (a *Access) refuse(req intent.Request) error {
	switch {
	case a == nil:
		return &RefusedError{Request: req, Reason: "no access checks configured"}
	case a.ReadOnly:
		return &RefusedError{Request: req, Reason: a.readOnlyReason()}
	}
	return nil
}

func (a *Access) ttl() time.Duration {
	if a.TTL > 0 {
		return a.TTL
	}
	return 30 * time.Second
}

// review returns "" when allowed, else why not.
func (a *Access) review(ctx context.Context, namespace string, c check) string {
	need := Need{Verb: c.verb, Group: c.group, Resource: c.resource, Subresource: c.subresource, Namespace: namespace}
	missing, err := Missing(ctx, a.Client, []Need{need})
	if err != nil || len(missing) == 0 {
		return "" // allowed, or cannot tell: let the API server decide when the action is taken
	}
	resource := c.resource
	if c.subresource != "" {
		resource += "/" + c.subresource
	}
	return fmt.Sprintf("forbidden: cannot %s %s in %s", c.verb, resource, namespace)
}

// WhoAmI asks the API server who the credentials belong to (SelfSubjectReview); fallback
// is used when it cannot say.
func WhoAmI(ctx context.Context, client kubeapi.API, fallback string) string {
	review, err := client.WhoAmI(ctx)
	if err != nil || review.Status.UserInfo.Username == "" {
		if fallback == "" {
			return "unknown"
		}
		return fallback
	}
	return review.Status.UserInfo.Username
}

// Service is what a console acts through: plans and writes (Driver) and access checks.
// It enforces the access rather than trusting its caller to have greyed a key out: a
// read-only service refuses before it reads or writes anything.
type Service struct {
	Driver *Driver
	Access *Access
}

// Permissions is Access.Permissions.
func (s Service) Permissions(ctx context.Context, scope intent.Scope) intent.Permissions {
	return s.Access.Permissions(ctx, scope)
}

// Plan is Driver.Plan, refused with a *RefusedError when the access is read-only.
func (s Service) Plan(ctx context.Context, req intent.Request) (intent.Plan, error) {
	if err := s.Access.refuse(req); err != nil {
		return intent.Plan{}, err
	}
	return s.Driver.Plan(ctx, req)
}

// Apply is Driver.Apply, refused with a *RefusedError when the access is read-only.
func (s Service) Apply(ctx context.Context, plan intent.Plan) (intent.Result, error) {
	if err := s.Access.refuse(plan.Request); err != nil {
		return intent.Result{}, err
	}
	return s.Driver.Apply(ctx, plan)
}

// ReleaseHold is Driver.ReleaseHold, refused with a *RefusedError when the access is
// read-only: giving an owner back is a write like any action.
func (s Service) ReleaseHold(ctx context.Context, target ref.Rollout, reason string) (safetext.Text, error) {
	if err := s.Access.refuse(intent.Request{Action: intent.ReleaseHold, Target: target, Reason: reason}); err != nil {
		return "", err
	}
	return s.Driver.ReleaseHold(ctx, target, reason)
}

// Need is one permission a command needs before it starts.
type Need struct {
	Verb, Group, Resource, Subresource, Namespace string
}

func (n Need) String() string {
	where := "in namespace " + n.Namespace
	if n.Namespace == "" {
		where = "in all namespaces"
	}
	resource := n.Resource
	if n.Group != "" {
		resource += "." + n.Group
	}
	if n.Subresource != "" {
		resource += "/" + n.Subresource
	}
	return fmt.Sprintf("%s %s %s", n.Verb, resource, where)
}

// Missing asks the API server about each need (SelfSubjectAccessReview) and returns the
// ones it refuses. A review that cannot be asked is an error (unlike the console's greying
// out of keys: a guard must not start on a guess).
func Missing(ctx context.Context, client kubeapi.API, needs []Need) ([]Need, error) {
	var missing []Need
	for _, n := range needs {
		review, err := client.ReviewAccess(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: n.Namespace, Verb: n.Verb, Group: n.Group, Resource: n.Resource, Subresource: n.Subresource,
			}},
		})
		if err != nil {
			return nil, fmt.Errorf("asking whether you may %s: %w", n, err)
		}
		if !review.Status.Allowed {
			missing = append(missing, n)
		}
	}
	return missing, nil
}
