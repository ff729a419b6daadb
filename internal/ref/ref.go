// Package ref names a rollout by kind, namespace and name. An Argo Rollout and the
// Deployment it references usually share a name, so the kind is part of every key: in
// maps, in intents, on the command line.
package ref

import (
	"fmt"
	"sort"
	"strings"
)

// Kind is the API kind of a rollout.
type Kind string

const (
	// Deployment is an apps/v1 Deployment.
	Deployment Kind = "Deployment"
	// ArgoRollout is an argoproj.io/v1alpha1 Rollout.
	ArgoRollout Kind = "Rollout"
)

// Rollout identifies one rollout. It is comparable: use it as a map key.
type Rollout struct {
	// Cluster is the kubeconfig context the rollout was read through when several are in
	// view (--contexts); "" when the command works on one context. The same name in two
	// clusters is two rollouts.
	Cluster   string
	Kind      Kind
	Namespace string
	Name      string
}

// String is kubectl's TYPE/NAME form with the namespace: "deployment/orders-api in shop",
// and its context when it has one: "deployment/orders-api in shop (context prod-eu)".
func (r Rollout) String() string {
	s := r.Kind.Arg() + "/" + r.Name
	if r.Namespace != "" {
		s += " in " + r.Namespace
	}
	if r.Cluster != "" {
		s += " (context " + r.Cluster + ")"
	}
	return s
}

// Local is the rollout as its own cluster names it (no context): what a client of that
// cluster is asked about.
func (r Rollout) Local() Rollout {
	r.Cluster = ""
	return r
}

// Arg is the kind as the command line writes it: "deployment", "rollout".
func (k Kind) Arg() string { return strings.ToLower(string(k)) }

// kindWords are the TYPE prefixes kubectl users type for each kind.
var kindWords = map[string]Kind{
	"deployment": Deployment, "deployments": Deployment, "deploy": Deployment, "deployment.apps": Deployment,
	"rollout": ArgoRollout, "rollouts": ArgoRollout, "ro": ArgoRollout, "rollout.argoproj.io": ArgoRollout,
}

// ParseArg reads a NAME argument: "orders-api" (kind left to be resolved: Kind is ""),
// "deployment/orders-api" or "rollout/orders-api" (kubectl's aliases accepted).
func ParseArg(arg string) (Kind, string, error) {
	word, name, qualified := strings.Cut(arg, "/")
	if !qualified {
		if arg == "" {
			return "", "", fmt.Errorf("empty rollout name")
		}
		return "", arg, nil
	}
	kind, ok := kindWords[strings.ToLower(word)]
	if !ok {
		return "", "", fmt.Errorf("%q: unknown kind %q; name a rollout as NAME, deployment/NAME or rollout/NAME", arg, word)
	}
	if name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("%q: want %s/NAME", arg, word)
	}
	return kind, name, nil
}

// KindList is "deployment, rollout" for messages.
func KindList(kinds []Kind) string {
	words := make([]string, len(kinds))
	for i, k := range kinds {
		words[i] = k.Arg()
	}
	sort.Strings(words)
	return strings.Join(words, ", ")
}
