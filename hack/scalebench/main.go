// Command scalebench measures kubectl-pyroll against a sandbox scaled to 10,000 kwok pods in
// 200 Deployments across 5 namespaces (or 50,000 in 500: -pods): the figures of DESIGN.md §9
// that need a cluster (RSS, time to the first full frame, API requests after sync, Prometheus
// queries per interval, terminal bytes, event -> screen latency), then the same console under
// churn (100 Deployments rolling, a pod status change every 10 ms, for 2 minutes, filtered to
// one of them and not: event -> screen latency, the console's own latency (the same pod
// version on screen minus delivered by the API server to a bare watcher), memory, frames per
// second; -churn 0 skips it).
// `make bench` runs it after the Go benchmarks; it prints one line per figure with its target
// and writes them to .cache/bench-scale.txt.
//
//	go run ./hack/scalebench [-pods 10000] [-namespaces 5] [-deployments max(200, pods/100)] [-nodes 20] [-churn 2m]
//
// It starts its own sandbox (internal/sandbox, Options.Scale) in a temporary directory and
// stops it, with every process it started, when it ends or is interrupted.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/auditlog"
)

type config struct {
	pods, namespaces, deployments, nodes int
	binDir, pyroll, out                  string
	window                               time.Duration
	changes                              int
	readyTimeout                         time.Duration
	keep, hold                           bool
	churn                                time.Duration
	churnDeployments                     int
	churnInterval                        time.Duration
	churnAlso                            string
	pin                                  bool
	consolePodLog                        bool
	idleAlso, idleAlsoLabel              string
	serveSessions                        int
	attach, attachPrometheus             string
	contextsPhase                        bool
}

func numCPU() int { return runtime.NumCPU() }

func main() {
	// client-go's own warnings (a watch the busy API server cut short, retried) are noise
	// here: what matters is measured.
	klog.SetOutput(io.Discard)
	klog.LogToStderr(false)
	if len(os.Args) > 1 && os.Args[1] == streamWatchCommand {
		if err := runStreamWatch(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "scalebench %s: %v\n", streamWatchCommand, err)
			os.Exit(1)
		}
		return
	}
	var cfg config
	flag.IntVar(&cfg.pods, "pods", 10000, "pods in all (kwok pods, no process runs for them)")
	flag.IntVar(&cfg.namespaces, "namespaces", 5, "namespaces")
	flag.IntVar(&cfg.deployments, "deployments", 0, "Deployments in all, spread evenly over the namespaces (default max(200, pods/100): 200 x 50 pods at 10,000, 500 x 100 at 50,000)")
	flag.IntVar(&cfg.nodes, "nodes", 20, "kwok nodes")
	flag.StringVar(&cfg.binDir, "bin", ".cache/bin", "directory with etcd, kube-* and kwok (make tools)")
	flag.StringVar(&cfg.pyroll, "pyroll", "bin/kubectl-pyroll", "the kubectl-pyroll binary to measure (make build)")
	flag.StringVar(&cfg.out, "out", ".cache/bench-scale.txt", "where to write the figures too")
	flag.DurationVar(&cfg.window, "window", time.Minute, "steady-state window (API requests, idle terminal bytes)")
	flag.IntVar(&cfg.changes, "changes", 100, "pod changes timed from the API write to the screen")
	flag.DurationVar(&cfg.readyTimeout, "ready-timeout", 0, "how long the pods may take to be all Ready (default 12 minutes per 10,000 pods)")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the sandbox's directory (logs, audit log) afterwards")
	flag.BoolVar(&cfg.hold, "hold", false, "after measuring (or failing), keep the scaled sandbox running until Ctrl-C")
	flag.DurationVar(&cfg.churn, "churn", 2*time.Minute, "how long each churn run lasts (filtered to one rollout, then not); 0 skips the churn phase")
	flag.IntVar(&cfg.churnDeployments, "churn-deployments", 100, "Deployments rolling during the churn phase (a multiple of -namespaces)")
	flag.DurationVar(&cfg.churnInterval, "churn-interval", 10*time.Millisecond, "time between two pod status changes during the churn phase")
	flag.BoolVar(&cfg.consolePodLog, "console-podlog", false, "under churn, split the console's own latency in two by its own log of when it read each pod version: a -pyroll built with -tags pprof writes it (PYROLL_PODLOG); another build writes none and the split says so")
	flag.StringVar(&cfg.churnAlso, "churn-also", "", "another kubectl-pyroll binary to put through the churn phase after -pyroll, on the same sandbox (an A/B of a change)")
	flag.StringVar(&cfg.idleAlso, "idle-also", "", "another kubectl-pyroll binary whose console idle CPU is measured right after -pyroll's, the same way on the same sandbox (e.g. a build without go.mod's replace of bubbletea: hack/bench.sh builds one)")
	flag.StringVar(&cfg.idleAlsoLabel, "idle-also-label", "", "what -idle-also is, for its figure (default: its file name)")
	flag.IntVar(&cfg.serveSessions, "serve-sessions", 5, "SSH sessions to `serve --ssh` for its memory per extra session and idle CPU per console; 0 skips them")
	flag.BoolVar(&cfg.contextsPhase, "contexts-phase", false, "after the console's figures, move half the Deployments to a second sandbox and measure one console on both contexts (--all-contexts) against the one-context figures")
	flag.BoolVar(&cfg.pin, "pin", false, "once the pods are Ready, pin the sandbox's control plane to CPU 0 and this program, with the tmux server and consoles it starts, to CPU 1 (taskset): every later figure with the console on a core of its own (a diagnosis; make bench does not)")
	flag.StringVar(&cfg.attach, "attach", "", "a running sandbox's kubeconfig (one held by -hold): measure only the first full frame against the floor there, the sandbox holding -pods pods in -deployments Deployments")
	flag.StringVar(&cfg.attachPrometheus, "attach-prometheus", "http://127.0.0.1:9", "with -attach: the Prometheus URL the console is given")
	flag.Parse()
	if cfg.deployments == 0 {
		cfg.deployments = max(200, cfg.pods/100)
	}
	if cfg.readyTimeout == 0 {
		cfg.readyTimeout = time.Duration(max(1, (cfg.pods+9999)/10000)) * 12 * time.Minute
	}
	if cfg.namespaces < 1 || cfg.deployments < cfg.namespaces || cfg.deployments%cfg.namespaces != 0 || cfg.pods < cfg.deployments || cfg.pods%cfg.deployments != 0 {
		fmt.Fprintln(os.Stderr, "scalebench: -deployments must be a multiple of -namespaces, and -pods a multiple of -deployments")
		os.Exit(2)
	}
	if cfg.churn > 0 && (cfg.churnDeployments < cfg.namespaces || cfg.churnDeployments%cfg.namespaces != 0 || cfg.churnDeployments > cfg.deployments || cfg.churnDeployments/cfg.namespaces < 8) {
		fmt.Fprintln(os.Stderr, "scalebench: -churn-deployments must be a multiple of -namespaces, at least 8 per namespace, and at most -deployments")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	var err error
	if cfg.attach != "" {
		err = runAttached(ctx, cfg)
	} else {
		err = run(ctx, cfg)
	}
	interrupted := ctx.Err() != nil
	stop()
	if err != nil {
		if interrupted {
			err = errors.New("interrupted; the sandbox and everything it started were stopped")
		}
		fmt.Fprintf(os.Stderr, "scalebench: %v\n", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "scalebench: "+format+"\n", args...)
}

// figures collects the result lines.
type figures struct{ lines []string }

func (f *figures) add(format string, args ...any) {
	f.lines = append(f.lines, "  "+fmt.Sprintf(format, args...))
}

// rssTarget is DESIGN.md §9's resident memory target for that many pods, with its verdict:
// < 60 MB watching 10,000 pods, < 120 MB watching 50,000 (sizes in between are held to the
// 50,000-pod target; none is set above).
func rssTarget(pods int, rss int64) string {
	switch {
	case pods <= 10000:
		return "target < 60 MB: " + verdict(rss < 60e6)
	case pods <= 50000:
		return "target < 120 MB at 50,000 pods: " + verdict(rss < 120e6)
	}
	return "no target above 50,000 pods"
}

// usefulFrameTarget is DESIGN.md §9's target for the first useful frame (every rollout's
// row, the pods still streaming), set at 50,000 pods (< 1.5 s), with its verdict; smaller
// sandboxes are held to it too.
func usefulFrameTarget(pods int, d time.Duration) string {
	if pods > 50000 {
		return "no target above 50,000 pods"
	}
	return "target < 1.5 s at 50,000 pods: " + verdict(d < 1500*time.Millisecond)
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

func run(ctx context.Context, cfg config) (err error) {
	pyroll, err := filepath.Abs(cfg.pyroll)
	if err != nil {
		return err
	}
	if _, err := os.Stat(pyroll); err != nil {
		return fmt.Errorf("%s: %w (make build)", pyroll, err)
	}
	binDir, err := filepath.Abs(cfg.binDir)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "pyroll-scalebench-")
	if err != nil {
		return err
	}
	defer func() {
		if cfg.keep || (err != nil && ctx.Err() == nil) {
			logf("files kept in %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	}()
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}

	wl := scaleWorkload{namespaces: cfg.namespaces, perNamespace: cfg.deployments / cfg.namespaces, replicas: int32(cfg.pods / cfg.deployments)}
	var figs figures
	defer func() {
		if err != nil && len(figs.lines) > 0 {
			fmt.Printf("Scale run stopped early; the figures measured so far:\n%s\n", strings.Join(figs.lines, "\n"))
		}
	}()
	began := time.Now()
	mem := watchMemory(ctx, dir, 2*time.Second)
	defer func() {
		if err != nil {
			logf("%s", mem.summary())
		}
	}()
	logf("starting a sandbox scaled for %d pods (%d kwok nodes) in %s", wl.pods(), cfg.nodes, dir)
	// A fleet of Deployments, measured as before Argo Rollouts came: the controller would
	// share the two cores with the console being measured and watch nothing of it.
	sb, err := sandbox.Start(ctx, sandbox.Options{Dir: filepath.Join(dir, "sandbox"), BinDir: binDir, Nodes: cfg.nodes, Scale: true, NoArgo: true, Log: os.Stderr})
	if err != nil {
		return err
	}
	defer sb.Stop()
	if cfg.hold {
		defer func() {
			if err != nil {
				logf("failed: %v", err)
			}
			logf("holding the sandbox until Ctrl-C: export KUBECONFIG=%s", sb.Kubeconfig)
			<-ctx.Done()
		}()
	}
	client := sb.Client()

	logf("creating %d Deployments x %d replicas in %d namespaces, %d pods at a time", wl.deployments(), wl.replicas, wl.namespaces, min(wl.pods(), wavePods))
	created := time.Now()
	if err := wl.createReady(ctx, client, cfg.readyTimeout, logf); err != nil {
		return err
	}
	readyIn := time.Since(created)
	logf("all %d pods Ready in %s", wl.pods(), readyIn.Round(time.Second))
	// One slow rollout in progress, so that `status --watch` keeps watching.
	slowNS, slowName := wl.namespace(0), wl.name(0, 0)
	if err := holdProgressing(ctx, client, slowNS, slowName); err != nil {
		return err
	}

	statusKubeconfig, err := sb.UserKubeconfig("bench-status", "system:masters")
	if err != nil {
		return err
	}
	consoleKubeconfig, err := sb.UserKubeconfig("bench-console", "system:masters")
	if err != nil {
		return err
	}
	// The exporter's preset is named (as a team that knows its exporter would), so each
	// interval sends exactly the preset's queries: no series exist for kwok pods.
	pyrollConfig := filepath.Join(dir, "pyroll.yaml")
	if err := os.WriteFile(pyrollConfig, []byte("prometheus:\n  preset: prometheus_client\n"), 0o644); err != nil {
		return err
	}
	env := childEnv(home)

	figs.add("setup: %d pods in %d Deployments created and all Ready in %s   (setup, no target)", wl.pods(), wl.deployments(), readyIn.Round(time.Second))
	if cfg.pin {
		pinned, err := pinCores(filepath.Join(dir, "sandbox"))
		if err != nil {
			return err
		}
		figs.add("-pin: from here the control plane (%s) runs on CPU 0 only, this program, tmux and the consoles on CPU 1 only   (a diagnosis: not make bench's conditions)", pinned)
	}
	logf("the API server alone: every pod to a bare client")
	floor, err := measureAPIFloor(ctx, sb, wl, &figs)
	if err != nil {
		return err
	}
	if err := measureStatus(ctx, cfg, wl, sb, pyroll, statusKubeconfig, env, &figs); err != nil {
		return err
	}
	if _, err := exec.LookPath("tmux"); err == nil {
		logf("console -A: first full frame, %d runs alternating with the floor's reads", fullFrameRuns)
		// A user of their own: the console's request counts below are by user, and these
		// consoles' last requests (the events' watch, which starts once the pods are read)
		// come within a second of the next console's start.
		fullFrameKubeconfig, err := sb.UserKubeconfig("bench-fullframe", "system:masters")
		if err != nil {
			return err
		}
		ff, err := measureFullFrames(ctx, sb.RESTConfig(), wl, pyroll, fullFrameKubeconfig, pyrollConfig, sb.PrometheusURL, home)
		if err != nil {
			return err
		}
		figs.add("%s", ff.figure(wl.pods()))
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		figs.add("console figures skipped: tmux is not installed (make deps)")
	} else if idle, rss, err := measureConsole(ctx, cfg, wl, sb, pyroll, consoleKubeconfig, pyrollConfig, home, floor, &figs); err != nil {
		return err
	} else if err := measureIdleAlso(ctx, cfg, wl, sb, idle, pyrollConfig, home, &figs); err != nil {
		return err
	} else if err := measureFleetIf(ctx, cfg, wl, sb, pyroll, dir, home, fleetBaseline{rss: rss, idlePerMinute: idle}, &figs); err != nil {
		return err
	} else if err := measureServeIf(ctx, cfg, wl, sb, pyroll, pyrollConfig, home, &figs); err != nil {
		return err
	} else if cfg.churn > 0 {
		churnKubeconfig, err := sb.UserKubeconfig("bench-churn", "system:masters")
		if err != nil {
			return err
		}
		if err := measureChurn(ctx, cfg, wl, sb, pyroll, churnKubeconfig, pyrollConfig, home, &figs); err != nil {
			return err
		}
	}
	figs.add("%s   (no target)", mem.summary())

	header := fmt.Sprintf("Scale run (%s): %d kwok pods in %d Deployments x %d replicas across %d namespaces, %d kwok nodes; %s; %s in %s",
		time.Now().Format("2006-01-02"), wl.pods(), wl.deployments(), wl.replicas, wl.namespaces, cfg.nodes, machine(), versionOf(pyroll), time.Since(began).Round(time.Second))
	out := header + "\n" + strings.Join(figs.lines, "\n") + "\n"
	fmt.Print(out)
	if cfg.out != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.out), 0o755); err == nil {
			_ = os.WriteFile(cfg.out, []byte(out), 0o644)
		}
	}
	return nil
}

// runAttached measures the first full frame against the floor on a sandbox already
// running (-attach: its kubeconfig), for working on that figure without setting up tens of
// thousands of pods each time.
func runAttached(ctx context.Context, cfg config) error {
	pyroll, err := filepath.Abs(cfg.pyroll)
	if err != nil {
		return err
	}
	rc, err := clientcmd.BuildConfigFromFlags("", cfg.attach)
	if err != nil {
		return err
	}
	home, err := os.MkdirTemp("", "pyroll-scalebench-attach-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	pyrollConfig := filepath.Join(home, "pyroll.yaml")
	if err := os.WriteFile(pyrollConfig, []byte("prometheus:\n  preset: prometheus_client\n"), 0o644); err != nil {
		return err
	}
	wl := scaleWorkload{namespaces: cfg.namespaces, perNamespace: cfg.deployments / cfg.namespaces, replicas: int32(cfg.pods / cfg.deployments)}
	ff, err := measureFullFrames(ctx, rc, wl, pyroll, cfg.attach, pyrollConfig, cfg.attachPrometheus, home)
	if err != nil {
		return err
	}
	fmt.Println(ff.figure(wl.pods()))
	return nil
}

// childEnv is the environment of the measured processes: no KUBECONFIG or PYROLL_* from the
// caller, and a HOME of their own (no user config file).
func childEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "KUBECONFIG" || strings.HasPrefix(k, "PYROLL_") || k == "HOME" || k == "XDG_CONFIG_HOME" || k == "NO_COLOR" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
}

// lastLines is the end of a command's stderr, without the GC trace.
func lastLines(s string) string {
	var keep []string
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if !strings.HasPrefix(line, "gc ") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep[max(0, len(keep)-5):], "\n")
}

func versionOf(pyroll string) string {
	out, err := exec.Command(pyroll, "version").Output()
	if err != nil {
		return "kubectl-pyroll"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// measureStatus: RSS of `status --watch -A -o ndjson` once it printed every rollout, its
// API requests after that (LISTs must be 0).
func measureStatus(ctx context.Context, cfg config, wl scaleWorkload, sb *sandbox.Sandbox, pyroll, kubeconfig string, env []string, figs *figures) error {
	logf("status --watch -A -o ndjson: until every rollout is printed, then %s of steady state", cfg.window)
	cmd := exec.Command(pyroll, "--kubeconfig", kubeconfig, "status", "--watch", "-A", "-o", "ndjson")
	cmd.Env = append(env, "GODEBUG=gctrace=1") // its heap after each GC, on stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}()
	full := make(chan time.Time, 1)
	var mu sync.Mutex
	linesAfter := 0
	go func() {
		defer close(exited)
		seen := map[string]bool{}
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var line struct{ Namespace, Name string }
			if json.Unmarshal(sc.Bytes(), &line) != nil || line.Name == "" {
				continue
			}
			mu.Lock()
			if len(seen) >= wl.deployments() {
				linesAfter++
			} else if seen[line.Namespace+"/"+line.Name] = true; len(seen) == wl.deployments() {
				full <- time.Now()
			}
			mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
	}()
	var firstAt time.Time
	select {
	case firstAt = <-full:
	case <-exited:
		return fmt.Errorf("status --watch ended before printing every rollout: %s", lastLines(stderr.String()))
	case <-time.After(5 * time.Minute):
		return errors.New("status --watch printed fewer rollouts than exist after 5 minutes")
	case <-ctx.Done():
		return ctx.Err()
	}
	pid := cmd.Process.Pid
	rssFirst, err := rssBytes(pid)
	if err != nil {
		return err
	}
	cpu0, _ := cpuSeconds(pid)
	select {
	case <-time.After(cfg.window): // the steady state being measured
	case <-exited:
		return fmt.Errorf("status --watch ended during the steady state: %s", lastLines(stderr.String()))
	case <-ctx.Done():
		return ctx.Err()
	}
	end := time.Now()
	rssLater, _ := rssBytes(pid)
	cpu1, _ := cpuSeconds(pid)
	all, err := requests(sb, "bench-status", started.Add(-time.Second), end)
	if err != nil {
		return err
	}
	var startup, after []auditlog.Request
	for _, r := range all {
		if r.Time.Before(firstAt) {
			startup = append(startup, r)
		} else {
			after = append(after, r)
		}
	}
	byVerb := auditlog.CountByVerb(after)
	mu.Lock()
	changed := linesAfter
	mu.Unlock()
	worst := max(rssFirst, rssLater)
	figs.add("status --watch -A -o ndjson RSS: %s after every rollout was printed (%.1f s after start), %s after %s more; %s   (%s)",
		mb(rssFirst), firstAt.Sub(started).Seconds(), rssFigure(pid, rssLater), cfg.window, liveHeap(stderr.String()), rssTarget(wl.pods(), worst))
	figs.add("status --watch API requests: at start %s; in the %s after: %d (%s), %d lines printed, %.2f CPU-s   (target 0 LISTs after sync: %s)",
		verbSummary(auditlog.CountByVerb(startup), 0), cfg.window, total(byVerb), verbSummary(byVerb, 0), changed, cpu1-cpu0, verdict(byVerb["list"] == 0))
	return nil
}

// besidesAgeRedraw is what the bursts wrote besides the once-a-minute AGE redraw (the
// console redraws ages a minute after it started, by its own tick).
func besidesAgeRedraw(bursts []burst) int64 {
	var other int64
	for _, b := range bursts {
		sinceTick := b.at - b.at.Truncate(time.Minute)
		if !(b.at >= time.Minute && (sinceTick < 3*time.Second || sinceTick > time.Minute-500*time.Millisecond)) {
			other += b.bytes
		}
	}
	return other
}

// measureConsole runs the console in tmux: time to the first full frame, RSS, API requests
// and Prometheus queries in steady state, terminal bytes idle and per pod change, and the
// event -> screen latency. It returns the idle CPU-s per minute.
func measureConsole(ctx context.Context, cfg config, wl scaleWorkload, sb *sandbox.Sandbox, pyroll, kubeconfig, pyrollConfig, home string, floor time.Duration, figs *figures) (idlePerMinute float64, worst int64, err error) {
	tm, err := startTerminal(ctx, fmt.Sprintf("pyroll-scalebench-%d", os.Getpid()), home)
	if err != nil {
		return 0, 0, err
	}
	defer tm.Kill()
	const metricsInterval = 10 * time.Second // the console's default --metrics-interval
	// Its heap after each GC goes to a file (stderr), not to the terminal being measured.
	gcLog := filepath.Join(home, "console-gctrace.log")
	command := fmt.Sprintf("exec env GODEBUG=gctrace=1 %s --kubeconfig %s -A --prometheus-url %s --config %s 2>%s", pyroll, kubeconfig, sb.PrometheusURL, pyrollConfig, gcLog)
	logf("console -A in tmux (200x50): until the header counts every rollout, then until every pod is read")
	started, useful, err := runUntilEveryRollout(ctx, tm, command, wl, 10*time.Millisecond, nil)
	if err != nil {
		return 0, 0, err
	}
	_, firstFrame, err := tm.WaitScreen(ctx, 5*time.Minute, 10*time.Millisecond, "every pod read", func(s string) bool {
		return headerRollouts(s) >= wl.deployments() && everyPodRead(s)
	})
	if err != nil {
		return 0, 0, err
	}
	pid, err := tm.PanePID()
	if err != nil {
		return 0, 0, fmt.Errorf("console pid: %w", err)
	}
	rssFirst, err := rssBytes(pid)
	if err != nil {
		return 0, 0, err
	}
	figs.add("console -A: first useful frame (the header counts all %d rollouts, their rows from the status, the pods still streaming) %.2f s after start   (%s)",
		wl.deployments(), useful.Sub(started).Seconds(), usefulFrameTarget(wl.pods(), useful.Sub(started)))
	figs.add("console -A: first full frame (every pod read: no \"reading pods\") %.2f s after start, this run; the floor's best of two read before it %.2f s   (no target here: judged on the runs alternating with the floor's reads)",
		firstFrame.Sub(started).Seconds(), floor.Seconds())

	// Everything the console writes to its terminal from now on.
	raw := filepath.Join(filepath.Dir(pyrollConfig), "terminal.raw")
	if err := settleAndRecord(ctx, tm, raw); err != nil {
		return 0, 0, err
	}

	logf("console: %s idle (terminal bytes, API requests, Prometheus queries)", cfg.window)
	screenBefore, _ := tm.Screen()
	cpu0, _ := cpuSeconds(pid)
	type promCount struct {
		queries float64
		rounds  int
		err     error
	}
	promCtx, promStop := context.WithCancel(ctx)
	promDone := make(chan promCount, 1)
	go func() {
		q, r, err := promRounds(promCtx, sb.PrometheusURL)
		promDone <- promCount{q, r, err}
	}()
	windowStart := time.Now()
	idleBytes, bursts := watchBytes(ctx, raw, cfg.window, started)
	windowEnd := time.Now()
	promStop()
	prom := <-promDone
	if ctx.Err() != nil {
		return 0, 0, ctx.Err()
	}
	if prom.err != nil {
		return 0, 0, prom.err
	}
	cpu1, _ := cpuSeconds(pid)
	rssIdle, _ := rssBytes(pid)
	screenAfter, _ := tm.Screen()
	idleReqs, err := requests(sb, "bench-console", windowStart, windowEnd)
	if err != nil {
		return 0, 0, err
	}

	worst = max(rssFirst, rssIdle)
	gctrace, _ := os.ReadFile(gcLog)
	figs.add("console -A RSS: %s after the first full frame, %s after %s idle; %s   (%s)",
		mb(rssFirst), rssFigure(pid, rssIdle), cfg.window, liveHeap(string(gctrace)), rssTarget(wl.pods(), worst))
	perMinute := float64(time.Minute) / float64(windowEnd.Sub(windowStart))
	idleVerbs := auditlog.CountByVerb(idleReqs)
	figs.add("console API requests per minute in steady state (%s idle): %.1f (%s)   (target 0 LISTs, only the open WATCHes: %s)",
		cfg.window, float64(len(idleReqs))*perMinute, verbSummary(idleVerbs, perMinute), verdict(idleVerbs["list"] == 0))
	perInterval := prom.queries / float64(max(prom.rounds, 1))
	figs.add("Prometheus queries per %s interval, console -A on %d services in %d namespaces: %.1f (%.0f queries in %d rounds in %s)   (target one per metric per namespace whatever the number of services, <= 4 x %d: %s)",
		metricsInterval, wl.deployments(), wl.namespaces, perInterval, prom.queries, prom.rounds, cfg.window, wl.namespaces, verdict(prom.rounds > 0 && perInterval <= float64(4*wl.namespaces)))
	otherBytes := besidesAgeRedraw(bursts)
	var times []string
	for _, b := range bursts {
		times = append(times, fmt.Sprintf("%d B at %.1f s", b.bytes, b.at.Seconds()))
	}
	detail := "nothing written"
	if len(bursts) > 0 {
		detail = strings.Join(times, ", ") + " after start"
		if otherBytes == 0 && onlyAgesDiffer(screenBefore, screenAfter) {
			detail += ": the once-a-minute AGE redraw only (ages move at minute granularity)"
		}
	}
	figs.add("terminal bytes in %s idle: %d B, %d B besides the minute AGE redraw (%s)   (target 0 while nothing changes: %s)",
		cfg.window, idleBytes, otherBytes, detail, verdict(otherBytes == 0))
	idlePerMinute = (cpu1 - cpu0) / cfg.window.Minutes()
	figs.add("console CPU in %s idle: %.2f CPU-s, %.2f per minute   (target < %.1f per minute: %s; k9s: ~20 CPU-s per idle minute at this scale)",
		cfg.window, cpu1-cpu0, idlePerMinute, idleCPUTarget, verdict(idlePerMinute < idleCPUTarget))

	// One rollout on screen (filtered), one of its pods turned not Ready and Ready again.
	n, k := min(1, wl.namespaces-1), min(7, wl.perNamespace-1)
	ns, name := wl.namespace(n), wl.name(n, k)
	if n == 0 && k == 0 {
		return 0, 0, errors.New("need at least two Deployments to time pod changes")
	}
	if err := tm.Type("/" + name); err != nil {
		return 0, 0, err
	}
	if err := tm.Press("Enter"); err != nil {
		return 0, 0, err
	}
	if _, _, err := tm.WaitScreen(ctx, 30*time.Second, 50*time.Millisecond, "the list filtered to "+name, func(s string) bool {
		return rowOf(s, name) != "" && strings.Contains(s, "1 of ")
	}); err != nil {
		return 0, 0, err
	}
	flip, err := newPodFlipper(ctx, sb.Client(), ns, name)
	if err != nil {
		return 0, 0, err
	}
	waitQuiet(ctx, raw, time.Second, 10*time.Second)
	logf("console: %d pod changes of %s/%s, each timed from the API write to the screen", cfg.changes, ns, name)
	clock, err := flip.watchEvents(ctx)
	if err != nil {
		return 0, 0, err
	}
	defer clock.stop()
	const pendingGlyph = "░"
	var latencies, delivery []time.Duration
	var changeBytes []int64
	for i := 0; i < cfg.changes; i++ {
		ready := i%2 == 1
		before := fileSize(raw)
		at, rv, err := flip.set(ctx, ready)
		if err != nil {
			return 0, 0, err
		}
		// On screen: the console's first write after the change (it writes nothing else
		// meanwhile), as tmux receives it; then checked on tmux's screen.
		written, err := waitGrowth(ctx, raw, before, 30*time.Second)
		if err != nil {
			return 0, 0, fmt.Errorf("change %d (pod ready=%t): %w", i+1, ready, err)
		}
		if _, _, err := tm.WaitScreen(ctx, 30*time.Second, 10*time.Millisecond, fmt.Sprintf("change %d (pod ready=%t) in the pod bar", i+1, ready), func(s string) bool {
			return strings.Contains(rowOf(s, name), pendingGlyph) == !ready
		}); err != nil {
			return 0, 0, err
		}
		latencies = append(latencies, written.Sub(at))
		if t := clock.at(rv); !t.IsZero() {
			delivery = append(delivery, t.Sub(at))
		}
		// Then the ReplicaSet's and the Deployment's status follow (the READY count).
		want := fmt.Sprintf("%d/%d", wl.replicas, wl.replicas)
		if !ready {
			want = fmt.Sprintf("%d/%d", wl.replicas-1, wl.replicas)
		}
		if _, _, err := tm.WaitScreen(ctx, 30*time.Second, 50*time.Millisecond, "the ready count "+want, func(s string) bool {
			return strings.Contains(rowOf(s, name), want)
		}); err != nil {
			return 0, 0, err
		}
		changeBytes = append(changeBytes, waitQuiet(ctx, raw, 700*time.Millisecond, 10*time.Second)-before)
	}
	end := time.Now()
	afterSync, err := requests(sb, "bench-console", firstFrame, end)
	if err != nil {
		return 0, 0, err
	}
	sinceStart, err := requests(sb, "bench-console", started.Add(-time.Second), end)
	if err != nil {
		return 0, 0, err
	}
	slices.Sort(latencies)
	slices.Sort(delivery)
	slices.Sort(changeBytes)
	figs.add("terminal bytes per single pod change (one pod Ready <-> not Ready, then its ReplicaSet's and Deployment's status), list filtered to one rollout: median %d B, min %d, max %d (n=%d)   (no target)",
		changeBytes[len(changeBytes)/2], changeBytes[0], changeBytes[len(changeBytes)-1], len(changeBytes))
	p99 := percentile(latencies, 99)
	figs.add("event -> screen latency (pod status write sent to the API -> the console's frame reaching tmux): p50 %s, p99 %s, max %s (n=%d); of which API write -> watch event at another client: %s   (target p99 < 100 ms: %s)",
		ms(percentile(latencies, 50)), ms(p99), ms(latencies[len(latencies)-1]), len(latencies), deliverySummary(delivery, clock.err()), verdict(p99 < 100*time.Millisecond))
	listsAfter := auditlog.CountByVerb(afterSync)["list"]
	watches := watchesByResource(sinceStart)
	// client-go's reflector ends each watch after 5 to 10 minutes and resumes it from its
	// resource version (a WATCH, not a re-read): one more per resource every 5 minutes at most.
	renewals := int(end.Sub(started) / (5 * time.Minute))
	onePerResource := len(watches) > 0
	for _, n := range watches {
		onePerResource = onePerResource && n <= 1+renewals
	}
	figs.add("console LISTs after sync: %d over %s (idle, then %d pod changes); all requests since start: %s   (target 0: %s)",
		listsAfter, end.Sub(firstFrame).Round(time.Second), cfg.changes, verbSummary(auditlog.CountByVerb(sinceStart), 0), verdict(listsAfter == 0))
	figs.add("console WATCHes since start (%s): %s   (target one per resource type in scope, plus client-go's resumption every 5 to 10 minutes: at most %d each: %s)", end.Sub(started).Round(time.Second), keyedSummary(watches), 1+renewals, verdict(onePerResource))
	return idlePerMinute, worst, nil
}
