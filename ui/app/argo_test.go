package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pyroll/kubectl-pyroll/internal/argo"
	"github.com/pyroll/kubectl-pyroll/internal/rollout"
	"github.com/pyroll/kubectl-pyroll/internal/rollout/rollouttest"
	"github.com/pyroll/kubectl-pyroll/ui/styles"
)

// argoRollouts are the demo's Deployments plus checkout-api, an Argo Rollout paused at
// step 1/4 whose background analysis measured the canary failing its condition.
func argoRollouts() []rollout.Rollout {
	ro := rollouttest.ArgoRollout("demo", "checkout-api", 5)
	objs := rollouttest.SyntheticArgo(1, 5)
	ro.UID = objs.Rollouts[0].UID
	objs.Rollouts[0].Name, objs.Rollouts[0].Namespace = "checkout-api", "demo"
	run := rollouttest.AnalysisRun(objs.Rollouts[0], "9f8e7d6c5", argo.AnalysisRunning, "[0.048]", "[0.051]", "[0.052]")
	run.Status.MetricResults[0].Measurements[2].Phase = argo.AnalysisFailed
	run.Status.MetricResults[0].Failed, run.Status.MetricResults[0].Successful = 1, 2
	objs.AnalysisRuns = []*argo.AnalysisRun{run}
	for _, o := range append(objs.ReplicaSets, nil) {
		if o != nil {
			o.Namespace = "demo"
		}
	}
	for _, p := range objs.Pods {
		p.Namespace = "demo"
	}
	built := rollout.Build(objs, clock)
	for i := range built {
		built[i].StartedAt = clock.Add(-4 * time.Minute)
	}
	return append(built, demoRollouts()...)
}

func argoConsole(t testing.TB, width, height int) Model {
	t.Helper()
	m := New(Options{Styles: styles.New(styles.Options{Color: true}), Context: "pyroll-sandbox", Namespace: "demo", Now: clock})
	m = send(m, tea.WindowSizeMsg{Width: width, Height: height})
	return send(m, SnapshotMsg(rollout.Snapshot{Rollouts: argoRollouts(), Synced: true, At: clock, Conn: rollout.Connection{State: rollout.ConnLive}}))
}

func TestGoldenArgoScreens(t *testing.T) {
	for _, size := range []struct{ w, h int }{{80, 24}, {120, 40}} {
		m := argoConsole(t, size.w, size.h)
		golden(t, fmt.Sprintf("argo-list-%dx%d", size.w, size.h), text(m))
		golden(t, fmt.Sprintf("argo-detail-%dx%d", size.w, size.h), text(send(m, press("enter"))))
	}
}

func TestArgoRowHasStepsAndItsKeysAreNamedForItsKind(t *testing.T) {
	m := argoConsole(t, 120, 40)
	screen := text(m)
	if !strings.Contains(screen, "STEP") || !strings.Contains(screen, "1/4 20%") {
		t.Fatalf("no STEP column with 1/4 20%%:\n%s", screen)
	}
	for i := 0; i < 5; i++ {
		if r, ok := m.list.Selected(); ok && r.Name == "checkout-api" {
			break
		}
		m = send(m, press("down"))
	}
	help := text(m)
	for _, want := range []string{"h abort", "P full promote", "r undo"} {
		if !strings.Contains(help, want) {
			t.Errorf("help on an Argo Rollout lacks %q:\n%s", want, help)
		}
	}
	m = send(m, press("up"))
	if r, _ := m.list.Selected(); r.Kind == "Deployment" && strings.Contains(text(m), "h abort") {
		t.Errorf("help on a Deployment says abort:\n%s", text(m))
	}
}
