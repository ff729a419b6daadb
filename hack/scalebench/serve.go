package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/testkit/tmux"
)

// Targets of DESIGN.md §9 for consoles served over SSH (`serve --ssh`, issue 17).
const (
	idleCPUTarget = 0.3 // CPU-s per idle minute per console, 10,000 pods in scope
	// extraSessionRSSTarget is bytes of RSS per extra session on the same scope, 10,000 pods:
	// DESIGN's < 25 MB since each session keeps its own cache (each user's RBAC differs).
	extraSessionRSSTarget = 25e6
)

// measureServeIf measures serve --ssh unless -serve-sessions is 0.
func measureServeIf(ctx context.Context, cfg config, wl scaleWorkload, sb *sandbox.Sandbox, pyroll, pyrollConfig, home string, figs *figures) error {
	if cfg.serveSessions <= 0 {
		return nil
	}
	return measureServe(ctx, cfg, wl, sb, pyroll, pyrollConfig, home, figs)
}

// measureServe runs `serve --ssh -A` on the scaled sandbox and opens sessions to it with
// the real OpenSSH client, each in a tmux terminal of its own at 200x50: the server's RSS
// with one session and with all of them, then its CPU over an idle window, per console.
func measureServe(ctx context.Context, cfg config, wl scaleWorkload, sb *sandbox.Sandbox, pyroll, pyrollConfig, home string, figs *figures) error {
	if _, err := exec.LookPath("ssh"); err != nil {
		figs.add("serve --ssh figures skipped: the OpenSSH client is not installed (make deps)")
		return nil
	}
	dir := filepath.Join(home, "serve")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	key := filepath.Join(dir, "id_ed25519")
	if out, err := exec.CommandContext(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", key).CombinedOutput(); err != nil {
		return fmt.Errorf("ssh-keygen: %w: %s", err, out)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		return err
	}
	// Each session impersonates a user who reads everything, as the console measured
	// before does; the server's own identity may impersonate (system:masters).
	keys := filepath.Join(dir, "authorized_keys")
	line := `pyroll-user="bench-ssh",pyroll-groups="system:masters" ` + strings.TrimSpace(string(pub)) + "\n"
	if err := os.WriteFile(keys, []byte(line), 0o600); err != nil {
		return err
	}
	kubeconfig, err := sb.UserKubeconfig("bench-serve", "system:masters")
	if err != nil {
		return err
	}

	gcLog := filepath.Join(dir, "serve-gctrace.log")
	gcFile, err := os.Create(gcLog)
	if err != nil {
		return err
	}
	defer gcFile.Close()
	serve := exec.CommandContext(ctx, pyroll, "--kubeconfig", kubeconfig, "-A", "--prometheus-url", sb.PrometheusURL, "--config", pyrollConfig,
		"serve", "--ssh", "127.0.0.1:0", "--authorized-keys", keys, "--host-key", filepath.Join(dir, "host_ed25519_key"),
		"--audit-log", filepath.Join(dir, "audit.jsonl"), "--idle", "0", "--max-sessions", fmt.Sprint(cfg.serveSessions))
	serve.Env = append(childEnv(home), "GODEBUG=gctrace=1")
	serve.Stderr = gcFile
	stdout, err := serve.StdoutPipe()
	if err != nil {
		return err
	}
	if err := serve.Start(); err != nil {
		return err
	}
	defer func() {
		_ = serve.Process.Signal(os.Interrupt)
		_ = serve.Wait()
	}()
	knownHosts, port, err := readKnownHosts(stdout, filepath.Join(dir, "known_hosts"))
	if err != nil {
		return fmt.Errorf("serve --ssh: %w (its stderr: %s)", err, gcLog)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	pid := serve.Process.Pid
	ssh := strings.Join([]string{"ssh", "-F", "/dev/null", "-o", "UserKnownHostsFile=" + knownHosts, "-o", "StrictHostKeyChecking=yes",
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes", "-i", key, "-p", port, "127.0.0.1"}, " ")

	open := func(i int) (*tmux.Session, error) {
		tm, err := startTerminal(ctx, fmt.Sprintf("pyroll-scalebench-ssh-%d-%d", os.Getpid(), i), home)
		if err != nil {
			return nil, err
		}
		// Synced, and the first metrics round landed (n/a: no series for kwok pods).
		if _, _, err := runUntilEveryRollout(ctx, tm, "exec "+ssh, wl, 100*time.Millisecond, func(s string) bool { return strings.Contains(s, "n/a") }); err != nil {
			tm.Kill()
			return nil, fmt.Errorf("session %d: %w", i, err)
		}
		return tm, nil
	}
	// settledRSS is the server's RSS once the sessions' first rebuilds are collected.
	settledRSS := func() (int64, error) {
		if err := sleepCtx(ctx, 20*time.Second); err != nil {
			return 0, err
		}
		return rssBytes(pid)
	}

	logf("serve --ssh -A: %d sessions over OpenSSH, each in tmux at 200x50", cfg.serveSessions)
	var terminals []*tmux.Session
	defer func() {
		for _, tm := range terminals {
			tm.Kill()
		}
	}()
	tm, err := open(1)
	if err != nil {
		return err
	}
	terminals = append(terminals, tm)
	rss1, err := settledRSS()
	if err != nil {
		return err
	}
	heap1 := liveHeapBytes(gcLog)
	for i := 2; i <= cfg.serveSessions; i++ {
		tm, err := open(i)
		if err != nil {
			return err
		}
		terminals = append(terminals, tm)
	}
	rssN, err := settledRSS()
	if err != nil {
		return err
	}
	heapN := liveHeapBytes(gcLog)
	extra := cfg.serveSessions - 1
	perSession := (rssN - rss1) / int64(max(1, extra))
	figs.add("serve --ssh -A RSS: %s with 1 session, %s with %d: %s per extra session (live heap %s -> %s)   (target < %s: %s)",
		mb(rss1), mb(rssN), cfg.serveSessions, mb(perSession), mb(heap1), mb(heapN), mb(extraSessionRSSTarget), verdict(perSession < extraSessionRSSTarget))

	logf("serve --ssh: %s idle with %d sessions", cfg.window, cfg.serveSessions)
	cpu0, err := cpuSeconds(pid)
	if err != nil {
		return err
	}
	if err := sleepCtx(ctx, cfg.window); err != nil { // the window measured, not a wait for something
		return err
	}
	cpu1, err := cpuSeconds(pid)
	if err != nil {
		return err
	}
	perMinute := (cpu1 - cpu0) / cfg.window.Minutes() / float64(cfg.serveSessions)
	figs.add("serve --ssh: %.2f CPU-s in %s idle for %d consoles: %.2f CPU-s per console per idle minute   (target < %.1f: %s)",
		cpu1-cpu0, cfg.window, cfg.serveSessions, perMinute, idleCPUTarget, verdict(perMinute < idleCPUTarget))
	return nil
}

// readKnownHosts reads serve's stdout up to its "known_hosts: " line, writes that line to
// path and returns path and the port it names.
func readKnownHosts(stdout io.Reader, path string) (string, string, error) {
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "known_hosts: ")
		if !ok {
			continue
		}
		host, _, _ := strings.Cut(rest, " ")
		port := strings.TrimPrefix(host, "[127.0.0.1]:")
		if port == host {
			return "", "", fmt.Errorf("known_hosts line %q names no [127.0.0.1]:PORT", rest)
		}
		return path, port, os.WriteFile(path, []byte(rest+"\n"), 0o600)
	}
	return "", "", fmt.Errorf("ended before printing its known_hosts line: %v", sc.Err())
}

// liveHeapBytes is the live heap after the last GC in a gctrace log, 0 when none.
func liveHeapBytes(path string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	all := gcLine.FindAllStringSubmatch(string(data), -1)
	if len(all) == 0 {
		return 0
	}
	var mbs int64
	_, _ = fmt.Sscan(all[len(all)-1][3], &mbs)
	return mbs * 1e6
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
