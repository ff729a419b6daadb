package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
)

// The two-context phase (-contexts-phase): the same pods split over two clusters, one
// console on both (--all-contexts). Half the Deployments of the measured sandbox are
// deleted and as many created in a second sandbox, so that two contexts of N/2 pods are set
// beside the one context of N measured before, in the same run: DESIGN's "two contexts of
// 5,000 pods cost no more than one of 10,000 plus 10 MB (RSS), idle CPU and idle bytes as
// for one context, first frame of each context as for one".

// fleetBaseline is what the one-context console measured before.
type fleetBaseline struct {
	rss           int64
	idlePerMinute float64
}

// fleetExtraRSS is how much more the console may hold for two contexts than for one with
// the same pods in all.
const fleetExtraRSS = 10e6

// measureFleetIf runs the two-context phase when asked.
func measureFleetIf(ctx context.Context, cfg config, wl scaleWorkload, sb *sandbox.Sandbox, pyroll, dir, home string, one fleetBaseline, figs *figures) error {
	if !cfg.contextsPhase {
		return nil
	}
	if wl.perNamespace < 2 {
		return fmt.Errorf("the two-context phase needs at least two Deployments per namespace")
	}
	half := scaleWorkload{namespaces: wl.namespaces, perNamespace: wl.perNamespace / 2, replicas: wl.replicas}
	logf("two contexts: %d of the %d Deployments moved to a second sandbox (%d pods each)", wl.deployments()-half.deployments(), wl.deployments(), half.pods())
	binDir, err := filepath.Abs(cfg.binDir)
	if err != nil {
		return err
	}
	second, err := sandbox.Start(ctx, sandbox.Options{Dir: filepath.Join(dir, "sandbox-2"), BinDir: binDir, Nodes: cfg.nodes, Scale: true, NoArgo: true, Log: os.Stderr})
	if err != nil {
		return err
	}
	defer second.Stop()
	if err := half.createReady(ctx, second.Client(), cfg.readyTimeout, logf); err != nil {
		return fmt.Errorf("second sandbox: %w", err)
	}
	if err := deleteFrom(ctx, sb, wl, half.perNamespace); err != nil {
		return err
	}
	var members []sandbox.FleetMember
	prometheus := "prometheus:\n  preset: prometheus_client\ncontexts:\n"
	for i, s := range []*sandbox.Sandbox{sb, second} {
		kubeconfig, err := s.UserKubeconfig("bench-fleet", "system:masters")
		if err != nil {
			return err
		}
		name := fmt.Sprintf("bench-%d", i+1)
		members = append(members, sandbox.FleetMember{Context: name, Cluster: name, Kubeconfig: kubeconfig})
		prometheus += fmt.Sprintf("  %s: {prometheus: {url: %q}}\n", name, s.PrometheusURL)
	}
	kubeconfig, _, err := sandbox.WriteFleet(dir, members)
	if err != nil {
		return err
	}
	pyrollConfig := filepath.Join(dir, "pyroll-fleet.yaml")
	if err := os.WriteFile(pyrollConfig, []byte(prometheus), 0o644); err != nil {
		return err
	}

	tm, err := startTerminal(ctx, fmt.Sprintf("pyroll-scalebench-fleet-%d", os.Getpid()), home)
	if err != nil {
		return err
	}
	defer tm.Kill()
	gcLog := filepath.Join(home, "fleet-gctrace.log")
	command := fmt.Sprintf("exec env GODEBUG=gctrace=1 %s --kubeconfig %s --all-contexts -A --config %s 2>%s", pyroll, kubeconfig, pyrollConfig, gcLog)
	logf("two contexts: the console (--all-contexts -A) in tmux, then %s idle", cfg.window)
	started, useful, err := runUntilEveryRollout(ctx, tm, command, wl, 10*time.Millisecond, nil)
	if err != nil {
		return err
	}
	_, full, err := tm.WaitScreen(ctx, 5*time.Minute, 10*time.Millisecond, "every pod of both read", func(s string) bool {
		return headerRollouts(s) >= wl.deployments() && everyPodRead(s)
	})
	if err != nil {
		return err
	}
	pid, err := tm.PanePID()
	if err != nil {
		return fmt.Errorf("console pid: %w", err)
	}
	rssFull, err := rssBytes(pid)
	if err != nil {
		return err
	}
	raw := filepath.Join(dir, "fleet-terminal.raw")
	if err := settleAndRecord(ctx, tm, raw); err != nil {
		return err
	}
	cpu0, _ := cpuSeconds(pid)
	windowStart := time.Now()
	idleBytes, bursts := watchBytes(ctx, raw, cfg.window, started)
	cpu1, _ := cpuSeconds(pid)
	rssIdle, _ := rssBytes(pid)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	idlePerMinute := (cpu1 - cpu0) / time.Since(windowStart).Minutes()
	worst := max(rssFull, rssIdle)
	gctrace, _ := os.ReadFile(gcLog)
	figs.add("two contexts of %d pods (%d Deployments each), one console --all-contexts -A: first useful frame %.2f s, first full frame %.2f s after start   (as for one context: the first useful frame's target < 1.5 s: %s)",
		half.pods(), half.deployments(), useful.Sub(started).Seconds(), full.Sub(started).Seconds(), verdict(useful.Sub(started) < 1500*time.Millisecond))
	figs.add("two contexts: console RSS %s after the first full frame, %s after %s idle; %s; one context of %d pods, this run: %s: %+.1f MB   (target at most one context's + 10 MB: %s)",
		mb(rssFull), rssFigure(pid, rssIdle), cfg.window, liveHeap(string(gctrace)), wl.pods(), mb(one.rss), float64(worst-one.rss)/1e6, verdict(worst <= one.rss+fleetExtraRSS))
	other := besidesAgeRedraw(bursts)
	figs.add("two contexts: idle CPU %.2f CPU-s per minute (one context, this run: %.2f); terminal bytes in %s idle %d B, %d B besides the minute AGE redraw   (target as for one context, < %.1f CPU-s and 0 B: %s)",
		idlePerMinute, one.idlePerMinute, cfg.window, idleBytes, other, idleCPUTarget, verdict(idlePerMinute < idleCPUTarget && other == 0))
	return nil
}

// deleteFrom deletes, in every namespace, the Deployments from index from on, and waits
// until their pods are gone (the sandbox may hold a few more pods than the workload's: a
// rollout held progressing has a surge pod).
func deleteFrom(ctx context.Context, sb *sandbox.Sandbox, wl scaleWorkload, from int) error {
	client := sb.Client()
	count := func(ctx context.Context) (int, error) {
		list, err := client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return 0, err
		}
		return len(list.Items), nil
	}
	before, err := count(ctx)
	if err != nil {
		return err
	}
	left := before - (wl.perNamespace-from)*wl.namespaces*int(wl.replicas)
	background := metav1.DeletePropagationBackground
	for n := 0; n < wl.namespaces; n++ {
		for k := from; k < wl.perNamespace; k++ {
			if err := client.AppsV1().Deployments(wl.namespace(n)).Delete(ctx, wl.name(n, k), metav1.DeleteOptions{PropagationPolicy: &background}); err != nil {
				return fmt.Errorf("delete %s/%s: %w", wl.namespace(n), wl.name(n, k), err)
			}
		}
	}
	return wait.PollUntilContextTimeout(ctx, 3*time.Second, 10*time.Minute, true, func(ctx context.Context) (bool, error) {
		n, err := count(ctx)
		return err == nil && n <= left, nil
	})
}
