package argo

import (
	"encoding/json"
	"fmt"
	"strings"
)

// This file ports what argo-rollouts v1.10.1's plugin sends for promote, abort and retry:
// pkg/kubectl-argo-rollouts/cmd/promote/promote.go (getPatches), cmd/abort/abort.go and
// cmd/retry/retry.go. The bodies are argo's own strings. argo falls back to one "unified"
// spec+status patch for v0.9 controllers without the status subresource; every controller
// since v0.10 has it, so only the status-then-spec pair is ported.

// argo: pkg/kubectl-argo-rollouts/cmd/promote (the constants of the branches ported here).
const (
	unpausePatch                                = `{"spec":{"paused":false}}`
	clearPauseConditionsPatch                   = `{"status":{"pauseConditions":null}}`
	clearPauseConditionsAndControllerPausePatch = `{"status":{"pauseConditions":null, "controllerPause":false, "currentStepIndex":%d}}`
	promoteFullPatch                            = `{"status":{"promoteFull":true}}`
	clearPauseConditionsPatchWithStep           = `{"status":{"pauseConditions":null, "currentStepIndex":%d}}`
)

// argo: pkg/kubectl-argo-rollouts/cmd/abort.abortPatch and cmd/retry.retryRolloutPatch.
const (
	abortPatch        = `{"status":{"abort":true}}`
	retryRolloutPatch = `{"status":{"abort":false}}`
)

// Subresources a Patch goes to.
const (
	SubresourceSpec   = ""
	SubresourceStatus = "status"
)

// promoteBranch is which branch of argo's getPatches built the status patch.
type promoteBranch int

const (
	branchNone            promoteBranch = iota
	branchInconclusive                  // inconclusive step analysis with controllerPause: step+1
	branchPauseConditions               // clear the pause conditions
	branchSkipStep                      // canary mid-step (analysis, experiment): step+1
)

// promotePatches is what argo's getPatches returns (without the v0.9 unified patch), and
// which branch and step move it took, for the Effect line.
type promotePatches struct {
	spec, status []byte
	branch       promoteBranch
	from, to     int32 // step indexes of branchInconclusive and branchSkipStep
}

// isInconclusive follows argo: cmd/promote.isInconclusive.
func isInconclusive(ro *Rollout) bool {
	return ro.Spec.Strategy.Canary != nil && ro.Status.Canary.CurrentStepAnalysisRunStatus != nil &&
		ro.Status.Canary.CurrentStepAnalysisRunStatus.Status == AnalysisInconclusive
}

// nextStep is argo's "index++ unless past the last step".
func nextStep(ro *Rollout, index int32) int32 {
	if index < int32(len(ro.Spec.Strategy.Canary.Steps)) {
		return index + 1
	}
	return index
}

// getPatches follows argo: cmd/promote.getPatches, its default branch (full == false) and
// its full branch; the deprecated skip flags are not ported.
func getPatches(ro *Rollout, full bool) promotePatches {
	var p promotePatches
	if full {
		if ro.Spec.Paused {
			p.spec = []byte(unpausePatch)
		}
		if ro.Status.CurrentPodHash != ro.Status.StableRS {
			p.status = []byte(promoteFullPatch)
		}
		return p
	}
	if ro.Spec.Paused {
		p.spec = []byte(unpausePatch)
	}
	switch {
	case isInconclusive(ro) && len(ro.Status.PauseConditions) > 0 && ro.Status.ControllerPause:
		// Without moving the step on, a rollout whose next step is a pause stays stuck in the
		// inconclusive state (argo's comment).
		if _, index := currentCanaryStep(ro); index != nil {
			p.branch, p.from, p.to = branchInconclusive, *index, nextStep(ro, *index)
			p.status = fmt.Appendf(nil, clearPauseConditionsAndControllerPausePatch, p.to)
		}
	case len(ro.Status.PauseConditions) > 0:
		p.branch = branchPauseConditions
		p.status = []byte(clearPauseConditionsPatch)
	case ro.Spec.Strategy.Canary != nil:
		// Promoting in the middle of an analysis or experiment step skips it: argo clears
		// pause conditions or moves the step, never both.
		if _, index := currentCanaryStep(ro); index != nil {
			p.branch, p.from, p.to = branchSkipStep, *index, nextStep(ro, *index)
			p.status = fmt.Appendf(nil, clearPauseConditionsPatchWithStep, p.to)
		}
	}
	return p
}

// patches orders them as argo sends them: status first, then spec.
func (p promotePatches) patches() []Patch {
	var out []Patch
	if p.status != nil {
		out = append(out, Patch{Subresource: SubresourceStatus, Body: p.status})
	}
	if p.spec != nil {
		out = append(out, Patch{Subresource: SubresourceSpec, Body: p.spec})
	}
	return out
}

// planPromote is argo's `promote` (getPatches' default branch). Two cases where argo would
// send a patch that changes nothing (or nothing at all) are refused instead, so that no
// confirmation is asked for a no-op: every step done and not paused (argo re-sends the
// current step index), and a rollout that is not paused with no step to skip.
func planPromote(ro *Rollout) (Plan, error) {
	if ro.Status.Abort {
		// argo would send the patch, but an aborted canary stays at step 0 and an aborted
		// blueGreen keeps the active service on stable until status.abort is cleared.
		return Plan{}, ErrAborted
	}
	p := getPatches(ro, false)
	noopStatus := p.branch == branchSkipStep && p.from == p.to
	if p.spec == nil && (p.status == nil || noopStatus) {
		if ro.Status.StableRS != "" && isFullyPromoted(ro) {
			return Plan{}, ErrFullyPromoted
		}
		return Plan{}, ErrNothingToPromote
	}
	var effect []string
	if p.spec != nil {
		effect = append(effect, "unpause (spec.paused)")
	}
	switch p.branch {
	case branchInconclusive:
		effect = append(effect, "accept the inconclusive analysis and go "+stepMove(ro, p.from, p.to))
	case branchPauseConditions:
		effect = append(effect, describeResume(ro))
	case branchSkipStep:
		if !noopStatus {
			effect = append(effect, "skip "+stepMove(ro, p.from, p.to))
		}
	}
	return Plan{Patches: p.patches(), Effect: strings.Join(effect, "; ")}, nil
}

// describeResume says what clearing the pause conditions resumes.
func describeResume(ro *Rollout) string {
	reasons := make([]string, 0, len(ro.Status.PauseConditions))
	hasReason := map[string]bool{}
	for _, c := range ro.Status.PauseConditions {
		reasons = append(reasons, c.Reason)
		hasReason[c.Reason] = true
	}
	if ro.Spec.Strategy.Canary != nil {
		step, index := currentCanaryStep(ro)
		if step != nil && step.Pause != nil && hasReason[PauseReasonCanaryPauseStep] {
			// argo: rollout/pause.go CompletedCanaryPauseStep: controllerPause without the
			// condition completes the pause step, and the controller moves to the next one.
			return "resume " + stepMove(ro, *index, *index+1)
		}
		if index != nil {
			return fmt.Sprintf("clear the pause (%s) at %s", strings.Join(reasons, ", "), stepAt(ro, *index))
		}
	}
	if ro.Spec.Strategy.BlueGreen != nil && hasReason[PauseReasonBlueGreenPause] {
		return fmt.Sprintf("switch the active service from %s to %s",
			orWord(ro.Status.BlueGreen.ActiveSelector, "stable"), orWord(ro.Status.BlueGreen.PreviewSelector, "the preview"))
	}
	return fmt.Sprintf("clear the pause (%s)", strings.Join(reasons, ", "))
}

// stepAt is "step 1/4 (pause)" in argo's numbering (currentStepIndex/len, as its plugin's
// Step), or "the end of the steps" past the last one.
func stepAt(ro *Rollout, i int32) string {
	steps := ro.Spec.Strategy.Canary.Steps
	if int(i) >= len(steps) {
		return "the end of the steps"
	}
	return fmt.Sprintf("step %d/%d (%s)", i, len(steps), canaryStepString(steps[i]))
}

func stepMove(ro *Rollout, from, to int32) string {
	return fmt.Sprintf("from %s to %s", stepAt(ro, from), stepAt(ro, to))
}

func orWord(hash, word string) string {
	if hash == "" {
		return word
	}
	return hash
}

// planPromoteFull is argo's `promote --full`: status.promoteFull unless current == stable,
// and an unpause when spec.paused.
func planPromoteFull(ro *Rollout) (Plan, error) {
	p := getPatches(ro, true)
	if p.status == nil && p.spec == nil {
		return Plan{}, ErrFullyPromoted
	}
	var effect string
	target := orWord(ro.Status.CurrentPodHash, "the new revision")
	switch {
	case p.status == nil:
		effect = fmt.Sprintf("unpause (spec.paused); %s is already fully promoted", target)
	case ro.Spec.Strategy.BlueGreen != nil:
		effect = fmt.Sprintf("promote %s fully: switch the active service now, skipping analysis and pauses", target)
	default:
		effect = fmt.Sprintf("promote %s fully: skip the remaining steps, analysis and pauses", target)
	}
	if p.status != nil && p.spec != nil {
		effect = "unpause (spec.paused); " + effect
	}
	if p.status != nil && ro.Status.Abort {
		// argo: rollout/canary.go and bluegreen.go syncRolloutStatus: promoteFull removes the abort.
		effect += ", lifting the abort"
	}
	return Plan{Patches: p.patches(), Effect: effect}, nil
}

// planAbort is argo's `abort`: status.abort=true on the status subresource.
func planAbort(ro *Rollout) Plan {
	stable := orWord(ro.Status.StableRS, "the stable revision")
	target := orWord(ro.Status.CurrentPodHash, "the new revision")
	effect := fmt.Sprintf("abort the update to %s: all traffic back to %s at once", target, stable)
	if ro.Spec.Strategy.BlueGreen != nil {
		effect = fmt.Sprintf("abort the update to %s: the active service back to %s at once", target, stable)
	}
	return Plan{Patches: []Patch{{Subresource: SubresourceStatus, Body: []byte(abortPatch)}}, Effect: effect}
}

// planRetry is argo's `retry rollout`: status.abort=false on the status subresource. An
// aborted canary was reset to step 0 by the controller (argo: rollout/canary.go
// syncRolloutStatusCanary), so the update starts over from its first step.
func planRetry(ro *Rollout) (Plan, error) {
	if !ro.Status.Abort {
		return Plan{}, ErrNotAborted
	}
	effect := fmt.Sprintf("retry the update to %s", orWord(ro.Status.CurrentPodHash, "the new revision"))
	if c := ro.Spec.Strategy.Canary; c != nil && len(c.Steps) > 0 {
		effect += " from " + stepAt(ro, 0)
	}
	return Plan{Patches: []Patch{{Subresource: SubresourceStatus, Body: []byte(retryRolloutPatch)}}, Effect: effect}, nil
}

// withResourceVersion merges metadata.resourceVersion into a patch body.
func withResourceVersion(body []byte, rv string) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, fmt.Errorf("patch body is not a JSON object: %w", err)
	}
	meta := map[string]json.RawMessage{}
	if raw, ok := obj["metadata"]; ok {
		if err := json.Unmarshal(raw, &meta); err != nil {
			return nil, fmt.Errorf("patch metadata is not a JSON object: %w", err)
		}
	}
	v, err := json.Marshal(rv)
	if err != nil {
		return nil, err
	}
	meta["resourceVersion"] = v
	if obj["metadata"], err = json.Marshal(meta); err != nil {
		return nil, err
	}
	return json.Marshal(obj)
}
