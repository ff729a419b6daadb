package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
)

// measureIdleAlso measures the idle CPU of another build's console (-idle-also) the way
// measureConsole measured -pyroll's (patched, the figure passed in): the same sandbox, right
// after it (that console gone), `-A` in a tmux terminal of the same size, GODEBUG=gctrace=1
// to a file, from the first full frame until the first metrics round has landed and the
// terminal was quiet for 2 s, then CPU over the same -window. hack/bench.sh passes a build
// without go.mod's replace of charm.land/bubbletea/v2, so the figure says what the
// third_party/bubbletea patch (an idle renderer that stops ticking) is worth.
func measureIdleAlso(ctx context.Context, cfg config, wl scaleWorkload, sb *sandbox.Sandbox, patchedPerMinute float64, pyrollConfig, home string, figs *figures) error {
	if cfg.idleAlso == "" {
		return nil
	}
	other, err := filepath.Abs(cfg.idleAlso)
	if err != nil {
		return err
	}
	if _, err := os.Stat(other); err != nil {
		return fmt.Errorf("-idle-also: %w", err)
	}
	label := cfg.idleAlsoLabel
	if label == "" {
		label = filepath.Base(other)
	}
	kubeconfig, err := sb.UserKubeconfig("bench-console-also", "system:masters")
	if err != nil {
		return err
	}
	tm, err := startTerminal(ctx, fmt.Sprintf("pyroll-scalebench-idle-%d", os.Getpid()), home)
	if err != nil {
		return err
	}
	defer tm.Kill()
	gcLog := filepath.Join(home, "console-also-gctrace.log")
	command := fmt.Sprintf("exec env GODEBUG=gctrace=1 %s --kubeconfig %s -A --prometheus-url %s --config %s 2>%s", other, kubeconfig, sb.PrometheusURL, pyrollConfig, gcLog)
	logf("console -A in tmux, %s: until the header counts every rollout, then %s idle", label, cfg.window)
	started, _, err := runUntilEveryRollout(ctx, tm, command, wl, 10*time.Millisecond, nil)
	if err != nil {
		return err
	}
	pid, err := tm.PanePID()
	if err != nil {
		return fmt.Errorf("console pid: %w", err)
	}
	raw := filepath.Join(filepath.Dir(pyrollConfig), "terminal-also.raw")
	if err := settleAndRecord(ctx, tm, raw); err != nil {
		return err
	}
	cpu0, err := cpuSeconds(pid)
	if err != nil {
		return err
	}
	idleBytes, _ := watchBytes(ctx, raw, cfg.window, started)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	cpu1, err := cpuSeconds(pid)
	if err != nil {
		return fmt.Errorf("the console (%s) ended during its idle window: %w", label, err)
	}
	perMinute := (cpu1 - cpu0) / cfg.window.Minutes()
	ratio := "n/a"
	if patchedPerMinute > 0 {
		ratio = fmt.Sprintf("%.1fx", perMinute/patchedPerMinute)
	}
	figs.add("console CPU in %s idle, %s: %.2f CPU-s, %.2f per minute (%d terminal bytes), against %.2f per minute for %s above: %s, %+.2f CPU-s per idle minute   (the patch earns its keep while this stays well above the patched figure; DESIGN's < %.1f per minute without the patch: %s)",
		cfg.window, label, cpu1-cpu0, perMinute, idleBytes, patchedPerMinute, filepath.Base(cfg.pyroll), ratio, perMinute-patchedPerMinute, idleCPUTarget, verdict(perMinute < idleCPUTarget))
	return nil
}
