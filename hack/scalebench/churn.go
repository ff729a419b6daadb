package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/auditlog"
	"github.com/pyroll/kubectl-pyroll/internal/testkit/tmux"
)

// The churn phase: -churn-deployments Deployments (100) held mid-rollout, their pods turning
// not Ready and Ready again one after the other, a pod status write every -churn-interval
// (10 ms) spread over them, for -churn (2 minutes); the console (-A, in tmux at 200x50) runs
// through it twice, filtered to one of them (/NAME) and unfiltered. The rollout on screen is
// one of the hundred; its own pod changes (its share: one a second) are timed from the API
// write to the first bytes tmux receives that show it in its row (a terminal emulator fed
// the same bytes as tmux: vt.go), and each one's arrival at a bare watcher of that pod (the
// eventClock) by its resourceVersion: on screen minus that arrival is the console's own
// latency, apart from the API server's (ownlatency.go). Measured too: the console's RSS and live heap at minute 1
// and minute 2, the frames it writes (what tmux receives, cut where it pauses: a frame is one
// write, and bubbletea writes at most one per 16 ms tick), and its LISTs.

const (
	terminalWidth, terminalHeight = 200, 50              // every measured terminal (the VT emulates the same)
	frameGap                      = 5 * time.Millisecond // output less than this apart is one frame
	churnSamples                  = time.Second          // RSS sampling period
	screenTimeout                 = 10 * time.Second     // a timed change not on screen by then is not measured
)

// churnSet is the Deployments that roll: the first per-namespace ones of each namespace.
func churnSet(wl scaleWorkload, n int) []types.NamespacedName {
	per := n / wl.namespaces
	var out []types.NamespacedName
	for ns := 0; ns < wl.namespaces; ns++ {
		for k := 0; k < per; k++ {
			out = append(out, types.NamespacedName{Namespace: wl.namespace(ns), Name: wl.name(ns, k)})
		}
	}
	return out
}

func measureChurn(ctx context.Context, cfg config, wl scaleWorkload, sb *sandbox.Sandbox, pyroll, kubeconfig, pyrollConfig, home string, figs *figures) error {
	set := churnSet(wl, cfg.churnDeployments)
	// The rollout on screen: one of the hundred, among the first rows of the unfiltered list
	// (Progressing rollouts come first, by namespace then name).
	target := types.NamespacedName{Namespace: wl.namespace(1), Name: wl.name(1, 7)}
	// Writes from a client of their own: neither the sandbox client's 100 requests per
	// second nor the timed writes' connection hold them back.
	churnClient, err := fastClient(sb.Kubeconfig)
	if err != nil {
		return err
	}
	logf("churn: %d Deployments held mid-rollout (a new revision, one surge pod, minReadySeconds 1h)", len(set))
	if err := holdAllProgressing(ctx, churnClient, set); err != nil {
		return err
	}
	var others []*churnDeployment
	var flip *podFlipper
	for _, d := range set {
		pods, err := stablePods(ctx, churnClient, d, 8)
		if err != nil {
			return err
		}
		if d == target {
			flip = &podFlipper{client: sb.Client(), pod: pods[0]}
			continue
		}
		cd := &churnDeployment{}
		for _, p := range pods {
			cd.pods = append(cd.pods, &podFlipper{client: churnClient, pod: p})
		}
		others = append(others, cd)
	}
	if flip == nil {
		return fmt.Errorf("churn: %s is not among the rolling Deployments", target)
	}
	builds, names := []string{pyroll}, []string{cfg.pyroll}
	if cfg.churnAlso != "" {
		// A/B: another build of kubectl-pyroll through the same churn, on the same sandbox.
		also, err := filepath.Abs(cfg.churnAlso)
		if err != nil {
			return err
		}
		builds, names = append(builds, also), append(names, cfg.churnAlso)
	}
	run := 0
	for i, build := range builds {
		label := ""
		if len(builds) > 1 {
			label = "[" + names[i] + "] "
		}
		for _, filtered := range []bool{true, false} {
			run++
			if err := churnRun(ctx, cfg, wl, sb, build, label, run, kubeconfig, pyrollConfig, home, target, flip, others, filtered, len(set), figs); err != nil {
				return err
			}
		}
	}
	return nil
}

// fastClient is a client of the sandbox's admin without client-side rate limit.
func fastClient(kubeconfig string) (kubernetes.Interface, error) {
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	rc.QPS, rc.Burst = 5000, 5000
	rc.WarningHandler = rest.NoWarnings{}
	return kubernetes.NewForConfig(rc)
}

// holdAllProgressing starts a new revision of each Deployment that stays Progressing (see
// holdProgressing), and waits until each has its surge pod Ready.
func holdAllProgressing(ctx context.Context, client kubernetes.Interface, set []types.NamespacedName) error {
	patch := []byte(`{"spec":{"minReadySeconds":3600,"progressDeadlineSeconds":7200,` +
		`"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}},` +
		`"template":{"metadata":{"annotations":{"org.opencontainers.image.version":"1.1.0"}}}}}`)
	for _, d := range set {
		if _, err := client.AppsV1().Deployments(d.Namespace).Patch(ctx, d.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
			return fmt.Errorf("start a slow rollout of %s: %w", d, err)
		}
	}
	want := map[types.NamespacedName]bool{}
	for _, d := range set {
		want[d] = true
	}
	namespaces := map[string]bool{}
	for _, d := range set {
		namespaces[d.Namespace] = true
	}
	var rolling int
	err := wait.PollUntilContextTimeout(ctx, 2*time.Second, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		rolling = 0
		for ns := range namespaces {
			list, err := client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{ResourceVersion: "0"})
			if err != nil {
				return false, nil
			}
			for i := range list.Items {
				d := &list.Items[i]
				if want[types.NamespacedName{Namespace: d.Namespace, Name: d.Name}] && d.Status.ObservedGeneration >= d.Generation &&
					d.Status.UpdatedReplicas >= 1 && d.Status.ReadyReplicas > *d.Spec.Replicas {
					rolling++
				}
			}
		}
		return rolling == len(set), nil
	})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("after 5 minutes %d/%d Deployments have their new revision's pod Ready", rolling, len(set))
	}
	return err
}

// stablePods lists up to n Ready pods of the Deployment's first revision (from the API
// server's watch cache).
func stablePods(ctx context.Context, client kubernetes.Interface, d types.NamespacedName, n int) ([]*corev1.Pod, error) {
	list, err := client.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=" + d.Name, ResourceVersion: "0"})
	if err != nil {
		return nil, err
	}
	var out []*corev1.Pod
	for i := range list.Items {
		p := &list.Items[i]
		if p.Annotations["org.opencontainers.image.version"] == "1.0.0" && p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil && podReady(p) {
			out = append(out, p.DeepCopy())
			if len(out) == n {
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no Ready pod of %s's first revision", d)
	}
	return out, nil
}

// churnDeployment is one rolling Deployment: its pods turn not Ready and Ready again one
// after the other, one write each.
type churnDeployment struct {
	pods   []*podFlipper
	next   int
	unread bool // pods[next] is not Ready: the next write makes it Ready again
}

func (d *churnDeployment) step(ctx context.Context) error {
	f := d.pods[d.next]
	_, _, err := f.set(ctx, d.unread)
	if err != nil {
		return err
	}
	if d.unread {
		d.next = (d.next + 1) % len(d.pods)
	}
	d.unread = !d.unread
	return nil
}

// churner writes one pod status every interval, round robin over the Deployments, each
// Deployment's writes in order from a goroutine of its own: a tick whose Deployment still
// waits for its last write (a second ago, at 100 Deployments) is skipped and counted.
type churner struct {
	writes, skipped, failed atomic.Int64
	lastErr                 atomic.Value
	stop                    context.CancelFunc
	done                    sync.WaitGroup
}

func startChurn(ctx context.Context, deployments []*churnDeployment, interval time.Duration) *churner {
	ctx, cancel := context.WithCancel(ctx)
	c := &churner{stop: cancel}
	queues := make([]chan struct{}, len(deployments))
	for i, d := range deployments {
		queues[i] = make(chan struct{}, 1)
		c.done.Go(func() {
			for range queues[i] {
				if err := d.step(ctx); err != nil {
					if ctx.Err() != nil {
						return
					}
					c.failed.Add(1)
					c.lastErr.Store(err.Error())
					continue
				}
				c.writes.Add(1)
			}
		})
	}
	c.done.Go(func() {
		defer func() {
			for _, q := range queues {
				close(q)
			}
		}()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			select {
			case queues[i%len(queues)] <- struct{}{}:
			default:
				c.skipped.Add(1)
			}
		}
	})
	return c
}

func (c *churner) finish() {
	c.stop()
	c.done.Wait()
}

// chunk is a read of what tmux passed on.
type chunk struct {
	at time.Time
	n  int
}

// termFeed reads what tmux receives from the console's terminal (pipe-pane through a FIFO),
// feeds it to a terminal emulator, and notes when the row of the rollout on screen changes
// between showing a not-ready pod and not.
type termFeed struct {
	mu      sync.Mutex
	vt      *vt
	chunks  []chunk
	row     string // ns/name of the row followed
	state   rowState
	stateAt time.Time
	flips   []screenFlip // every change of state, in order
	changed chan struct{}
	done    chan struct{}
}

type rowState int

const (
	rowAbsent  rowState = iota
	rowReady            // on screen, no pending pod in its health bar
	rowPending          // on screen, a pending (not ready) pod in its health bar
)

const pendingGlyph = "░"

func newTermFeed(row string) *termFeed {
	return &termFeed{vt: newVT(terminalWidth, terminalHeight), row: row, changed: make(chan struct{}, 1), done: make(chan struct{})}
}

func (f *termFeed) run(r io.Reader) {
	defer close(f.done)
	buf := make([]byte, 256<<10)
	for {
		n, err := r.Read(buf)
		now := time.Now()
		if n > 0 {
			f.mu.Lock()
			_, _ = f.vt.Write(buf[:n])
			f.chunks = append(f.chunks, chunk{at: now, n: n})
			if s := f.rowStateLocked(); s != f.state {
				f.state, f.stateAt = s, now
				f.flips = append(f.flips, screenFlip{at: now, state: s})
			}
			f.mu.Unlock()
			select {
			case f.changed <- struct{}{}:
			default:
			}
		}
		if err != nil {
			return
		}
	}
}

func (f *termFeed) rowStateLocked() rowState {
	for y := 0; y < f.vt.h; y++ {
		line := f.vt.Line(y)
		if fields := strings.Fields(line); len(fields) > 0 && fields[0] == f.row {
			if strings.Contains(line, pendingGlyph) {
				return rowPending
			}
			return rowReady
		}
	}
	return rowAbsent
}

// waitState waits until the row shows want, and returns when that showed up first.
func (f *termFeed) waitState(ctx context.Context, want rowState, timeout time.Duration) (time.Time, error) {
	deadline := time.After(timeout)
	for {
		f.mu.Lock()
		s, at := f.state, f.stateAt
		f.mu.Unlock()
		if s == want {
			return at, nil
		}
		select {
		case <-f.changed:
		case <-deadline:
			return time.Time{}, fmt.Errorf("the row of %s does not show the change after %s; the emulated screen:\n%s", f.row, timeout, f.screen())
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// waitFlip waits until the row turns to want at or after since (a flip before since, or a
// state it already showed then, is not this change's).
func (f *termFeed) waitFlip(ctx context.Context, want rowState, since time.Time, timeout time.Duration) error {
	deadline := time.After(timeout)
	seen := 0
	for {
		f.mu.Lock()
		flips := f.flips[seen:]
		seen = len(f.flips)
		f.mu.Unlock()
		for _, fl := range flips {
			if fl.state == want && !fl.at.Before(since) {
				return nil
			}
		}
		select {
		case <-f.changed:
		case <-deadline:
			return fmt.Errorf("the row of %s does not show the change after %s; the emulated screen:\n%s", f.row, timeout, f.screen())
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// allFlips is every change of the row's state so far.
func (f *termFeed) allFlips() []screenFlip {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.flips)
}

func (f *termFeed) screen() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.vt.Screen()
}

func (f *termFeed) chunksBetween(from, to time.Time) []chunk {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []chunk
	for _, c := range f.chunks {
		if !c.at.Before(from) && c.at.Before(to) {
			out = append(out, c)
		}
	}
	return out
}

// lastChunk is when tmux last passed output on.
func (f *termFeed) lastChunk() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.chunks) == 0 {
		return time.Time{}
	}
	return f.chunks[len(f.chunks)-1].at
}

// frames cuts the output into frames: chunks less than frameGap apart are one write.
func frames(chunks []chunk) []time.Time {
	var out []time.Time
	var last time.Time
	for _, c := range chunks {
		if len(out) == 0 || c.at.Sub(last) >= frameGap {
			out = append(out, c.at)
		}
		last = c.at
	}
	return out
}

// maxInWindow is the largest number of frames in any window of that length.
func maxInWindow(times []time.Time, window time.Duration) int {
	best, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= window {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// sameScreen compares the emulator's screen with tmux's, and says where they differ.
func sameScreen(emulated, tmuxScreen string) (bool, string) {
	a, b := strings.Split(trimScreen(emulated), "\n"), strings.Split(trimScreen(tmuxScreen), "\n")
	for i := 0; i < max(len(a), len(b)); i++ {
		var la, lb string
		if i < len(a) {
			la = a[i]
		}
		if i < len(b) {
			lb = b[i]
		}
		if la != lb {
			return false, fmt.Sprintf("row %d: emulated %q, tmux %q", i+1, la, lb)
		}
	}
	return true, ""
}

// trimScreen drops trailing blanks of each line and trailing empty lines.
func trimScreen(s string) string {
	lines := strings.Split(s, "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}

// minuteMemory is the console's memory at one mark of the run.
type minuteMemory struct {
	rss, peak int64 // at the mark; the highest sample in the minute before it
	anon      int64
	heap      string
}

func churnRun(ctx context.Context, cfg config, wl scaleWorkload, sb *sandbox.Sandbox, pyroll, label string, run int, kubeconfig, pyrollConfig, home string,
	target types.NamespacedName, flip *podFlipper, others []*churnDeployment, filtered bool, rolling int, figs *figures) error {
	mode := label + "unfiltered"
	if filtered {
		mode = label + "filtered to " + target.Name
	}
	tm, err := startTerminal(ctx, fmt.Sprintf("pyroll-scalebench-churn-%d-%d", os.Getpid(), run), home)
	if err != nil {
		return err
	}
	defer tm.Kill()
	// Everything tmux receives from the pane, read as it arrives.
	fifo := filepath.Join(home, fmt.Sprintf("churn-%d.fifo", run))
	_ = os.Remove(fifo)
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return err
	}
	feed := newTermFeed(target.Namespace + "/" + target.Name)
	opened := make(chan *os.File, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until tmux's pipe opens it for writing
		if err != nil {
			close(opened)
			return
		}
		opened <- f
		feed.run(f)
	}()
	if _, err := tm.Run("pipe-pane", "-t", "main", "exec cat > "+fifo); err != nil {
		return err
	}
	var pipe *os.File
	select {
	case pipe = <-opened:
	case <-time.After(10 * time.Second):
		return errors.New("tmux did not open the pipe-pane FIFO")
	}
	if pipe == nil {
		return errors.New("could not open the pipe-pane FIFO")
	}
	defer func() {
		_, _ = tm.Run("pipe-pane", "-t", "main") // closes the pipe: the feed ends
		select {
		case <-feed.done:
		case <-time.After(5 * time.Second):
			pipe.Close()
		}
	}()

	gcLog := filepath.Join(home, fmt.Sprintf("churn-%d-gctrace.log", run))
	podLog := ""
	if cfg.consolePodLog {
		podLog = filepath.Join(home, fmt.Sprintf("churn-%d-podlog.txt", run))
	}
	command := fmt.Sprintf("exec env GODEBUG=gctrace=1 PYROLL_PODLOG=%s %s --kubeconfig %s -A --prometheus-url %s --config %s 2>%s", podLog, pyroll, kubeconfig, sb.PrometheusURL, pyrollConfig, gcLog)
	started, firstFrame, err := runUntilEveryRollout(ctx, tm, command, wl, 20*time.Millisecond, everyPodRead)
	if err != nil {
		return err
	}
	pid, err := tm.PanePID()
	if err != nil {
		return fmt.Errorf("console pid: %w", err)
	}
	if filtered {
		if err := tm.Type("/" + target.Name); err != nil {
			return err
		}
		if err := tm.Press("Enter"); err != nil {
			return err
		}
		if _, _, err := tm.WaitScreen(ctx, 30*time.Second, 50*time.Millisecond, "the list filtered to "+target.Name, func(s string) bool {
			return rowOf(s, target.Name) != "" && strings.Contains(s, "1 of ")
		}); err != nil {
			return err
		}
	}
	// The row shows no pending pod before the first timed change.
	if _, _, err := flip.set(ctx, true); err != nil {
		return err
	}
	if _, err := feed.waitState(ctx, rowReady, 30*time.Second); err != nil {
		return err
	}
	quietFor(ctx, feed, time.Second, 15*time.Second)
	agreeBefore, diffBefore := compareScreens(tm, feed)

	logf("churn (%s): %d Deployments rolling, a pod status write every %s, for %s; %s's pod changes timed to the screen", mode, rolling, cfg.churnInterval, cfg.churn, target)
	clock, err := flip.watchEvents(ctx)
	if err != nil {
		return err
	}
	defer clock.stop()
	// The console's own latency is set against the stream it reads (every pod), not the
	// one-pod watch, which the API server serves seconds ahead of any watch of every pod.
	stream, err := flip.watchStreamEvents(ctx, sb.Kubeconfig)
	if err != nil {
		return err
	}
	defer stream.stop()
	cpu0, _ := cpuSeconds(pid)
	churnStart := time.Now()
	ch := startChurn(ctx, others, cfg.churnInterval)
	defer ch.finish()

	// The console's memory, sampled every second; noted half way (minute 1) and at the end
	// (minute 2).
	half := cfg.churn / 2
	var memMu sync.Mutex
	var marks []minuteMemory
	memDone := make(chan struct{})
	go func() {
		defer close(memDone)
		var peak int64
		next := churnStart.Add(half)
		for ctx.Err() == nil {
			time.Sleep(churnSamples)
			rss, err := rssBytes(pid)
			if err != nil {
				return
			}
			peak = max(peak, rss)
			if !time.Now().Before(next) {
				anon, _ := rssSplit(pid)
				gctrace, _ := os.ReadFile(gcLog)
				memMu.Lock()
				marks = append(marks, minuteMemory{rss: rss, peak: peak, anon: anon, heap: liveHeap(string(gctrace))})
				n := len(marks)
				memMu.Unlock()
				if n == 2 {
					return
				}
				peak, next = 0, next.Add(half)
			}
		}
	}()

	// Each timed change: its write, then the row showing it (at most screenTimeout: one not
	// shown by then is counted, not waited for), then its arrival at the bare watcher (at
	// most 5 s). Paired afterwards (pairChanges).
	var changes []timedChange
	missedInARow := 0
	ready := true
	for next := churnStart.Add(time.Second); ; next = next.Add(time.Second) {
		if wait := time.Until(next); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if time.Since(churnStart) >= cfg.churn {
			break
		}
		ready = !ready
		want := rowReady
		if !ready {
			want = rowPending
		}
		pod := flip.pod.Name
		at, rv, err := flip.set(ctx, ready)
		if err != nil {
			return err
		}
		changes = append(changes, timedChange{podVersion: podVersion{pod: pod, rv: rv}, sent: at, want: want})
		if err := feed.waitFlip(ctx, want, at, screenTimeout); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if missedInARow++; missedInARow == 3 {
				return fmt.Errorf("churn (%s), change %d (pod ready=%t), the third in a row not on screen: %w", mode, len(changes), ready, err)
			}
			logf("churn (%s), change %d (pod ready=%t): not on screen within %s; counted as not measured", mode, len(changes), ready, screenTimeout)
			continue
		}
		missedInARow = 0
		// Its arrival at both bare watchers, for the pairing below.
		clock.at(rv)
		stream.at(rv)
	}
	churnEnd := time.Now()
	ch.finish()
	cpu1, _ := cpuSeconds(pid)
	<-memDone
	if err := ctx.Err(); err != nil {
		return err
	}
	writes, skipped, failed := ch.writes.Load(), ch.skipped.Load(), ch.failed.Load()
	if failed > 0 {
		logf("churn (%s): %d pod writes failed, the last: %v", mode, failed, ch.lastErr.Load())
	}
	quietFor(ctx, feed, 2*time.Second, 20*time.Second)
	agreeAfter, diffAfter := compareScreens(tm, feed)
	reqs, err := requests(sb, "bench-churn", churnStart, churnEnd)
	if err != nil {
		return err
	}
	sinceSync, err := requests(sb, "bench-churn", firstFrame, churnEnd)
	if err != nil {
		return err
	}

	span := churnEnd.Sub(churnStart)
	rate := float64(writes) / span.Seconds()
	what := fmt.Sprintf("churn, console -A %s (%d Deployments rolling: %d pod status writes in %s, %.0f per second; machine load %s",
		mode, rolling, writes, span.Round(time.Second), rate, loadAverage())
	if skipped > 0 || failed > 0 {
		what += fmt.Sprintf("; %d ticks skipped, their Deployment's last write still waiting for the API server; %d writes failed", skipped, failed)
	}
	what += ")"
	pairs := pairChanges(changes, feed.allFlips(), clock.snapshot())
	own := pairChanges(changes, feed.allFlips(), stream.snapshot())
	latencies := pairs.toScreen
	if len(latencies) == 0 {
		return fmt.Errorf("churn (%s): no change timed to the screen (%d written)", mode, len(changes))
	}
	p99 := percentile(latencies, 99)
	notShown := ""
	if pairs.notOnScreen > 0 {
		notShown = fmt.Sprintf(", %d more not on screen within %s", pairs.notOnScreen, screenTimeout)
	}
	figs.add("%s: event -> screen for the rollout on screen (%s, its own pod changes, one a second): p50 %s, p99 %s, max %s (n=%d%s); of which API write -> watch event at another client: %s   (target p99 < 100 ms: %s)",
		what, target, ms(percentile(latencies, 50)), ms(p99), ms(latencies[len(latencies)-1]), len(latencies), notShown, deliverySummary(pairs.delivered, clock.err()), verdict(p99 < 100*time.Millisecond && pairs.notOnScreen == 0))
	figs.add("churn, console -A %s: the console's own latency under churn (the same pod version on screen minus delivered by the API server to a bare watcher of every pod, the stream the console reads, in a process of its own; %d rollouts churning): %s%s; that watcher behind a watch of the one pod by name: %s; on screen minus the one-pod watch: %s   (%s)",
		mode, rolling, ownLatencyFigure(own, screenTimeout), streamEnded(stream.err()), streamLag(clock.snapshot(), stream.snapshot()), ownLatencyFigure(pairs, screenTimeout), ownLatencyTarget(own, rolling))

	if podLog != "" {
		figs.add("churn, console -A %s: the console's own latency split by its own log of when it read each pod version (PYROLL_PODLOG, a -tags pprof build): %s",
			mode, splitFigure(changes, own.onScreen, stream.snapshot(), podLog))
	}

	memMu.Lock()
	got := append([]minuteMemory(nil), marks...)
	memMu.Unlock()
	if len(got) >= 2 {
		m1, m2 := got[0], got[1]
		growth := float64(m2.peak-m1.peak) / float64(m1.peak) * 100
		figs.add("churn, console -A %s: RSS at %s %s (anon %s; %s), at %s %s (anon %s; %s); highest sample in the first half %s, in the second %s (%+.1f %%); %.1f CPU-s over the run   (target flat, the second half's highest within 3 %% of the first's: %s)",
			mode, clockTime(half), mb(m1.rss), mb(m1.anon), m1.heap, clockTime(cfg.churn), mb(m2.rss), mb(m2.anon), m2.heap, mb(m1.peak), mb(m2.peak), growth, cpu1-cpu0, verdict(growth <= 3))
	} else {
		figs.add("churn, console -A %s: memory not sampled half way and at the end (run of %s)   (target flat: MISSED)", mode, cfg.churn)
	}

	fr := frames(feed.chunksBetween(churnStart, churnEnd))
	var bytes int
	for _, c := range feed.chunksBetween(churnStart, churnEnd) {
		bytes += c.n
	}
	peak := maxInWindow(fr, time.Second)
	figs.add("churn, console -A %s: frames reaching tmux: %d in %s, %.1f per second on average, at most %d in any 1 s; %.1f KB/s   (target <= 20 per second: %s)",
		mode, len(fr), span.Round(time.Second), float64(len(fr))/span.Seconds(), peak, float64(bytes)/span.Seconds()/1e3, verdict(peak <= 20))

	verbs := auditlog.CountByVerb(reqs)
	lists := auditlog.CountByVerb(sinceSync)["list"]
	check := "the emulated screen matched tmux's before and after"
	if !agreeBefore || !agreeAfter {
		check = "the emulated screen DIFFERED from tmux's: " + strings.TrimSpace(diffBefore+" "+diffAfter)
	}
	figs.add("churn, console -A %s: first full frame %.2f s after start; API requests during the churn: %s; LISTs since the first frame: %d; %s   (target 0 LISTs: %s)",
		mode, firstFrame.Sub(started).Seconds(), verbSummary(verbs, 0), lists, check, verdict(lists == 0))
	return nil
}

// loadAverage is the machine's 1-minute load average.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// clockTime is "1:00" for a minute.
func clockTime(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// quietFor waits until tmux has passed nothing on for quiet (at most limit).
func quietFor(ctx context.Context, feed *termFeed, quiet, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if last := feed.lastChunk(); !last.IsZero() && time.Since(last) >= quiet {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// compareScreens checks the emulator against tmux's screen (once both have settled).
func compareScreens(tm *tmux.Session, feed *termFeed) (bool, string) {
	for attempt := 0; ; attempt++ {
		screen, err := tm.Screen()
		if err != nil {
			return false, err.Error()
		}
		ok, diff := sameScreen(feed.screen(), screen)
		if ok || attempt == 4 {
			if !ok {
				logf("emulated screen:\n%s\ntmux screen:\n%s", feed.screen(), screen)
			}
			return ok, diff
		}
		time.Sleep(200 * time.Millisecond) // a frame between the two reads
	}
}
