package actions

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
)

// A confirmation names a decision: "resume from step 1/4 (pause: 30s) to step 2/4
// (analysis)", "roll back to rev 3". Between the question and the "y" the controller goes
// on: a timed pause ends, the analysis starts, someone edits the template. Apply re-decides
// from a fresh read and writes only when the decision is the one the person confirmed;
// these keys are what "the same" means beyond the builds (intent.Plan.Decision).

// argoDecision is an Argo plan as it will be written: its effect (the promote branch, the
// step moved from and to, the pause or analysis passed) and every patch body it sends.
func argoDecision(p argo.Plan) string {
	parts := []string{p.Effect}
	for _, patch := range p.Patches {
		parts = append(parts, patch.Subresource+":"+string(patch.Body))
	}
	return strings.Join(parts, "\n")
}

// templateMove is a rollback from one pod template to another, by content: a template
// edited since the plan (an env var, a command) is another decision even where the
// revision numbers and images still read the same.
func templateMove(from, to *corev1.PodTemplateSpec) string {
	return fmt.Sprintf("template %s -> %s", templateHash(from), templateHash(to))
}

// templateHash identifies a pod template by content, without the pod-template-hash label
// (the ReplicaSet's copy carries it, the Deployment's does not).
func templateHash(t *corev1.PodTemplateSpec) string {
	c := t.DeepCopy()
	delete(c.Labels, "pod-template-hash")
	delete(c.Labels, argo.PodTemplateHashLabel)
	body, err := json.Marshal(c)
	if err != nil {
		return "unhashable: " + err.Error()
	}
	h := fnv.New64a()
	_, _ = h.Write(body)
	return fmt.Sprintf("%016x", h.Sum64())
}
