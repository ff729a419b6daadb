package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
	"github.com/pyroll/kubectl-pyroll/internal/sandbox/auditlog"
	"github.com/pyroll/kubectl-pyroll/internal/testkit/tmux"
)

// rssBytes is the process's resident set (VmRSS in /proc/PID/status).
func rssBytes(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// cpuSeconds is the CPU time (user + system) the process used so far.
func cpuSeconds(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command (which may hold spaces) start after the last ')'.
	i := strings.LastIndexByte(string(data), ')')
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100, nil // USER_HZ is 100 on Linux
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

// requests reads the audit log for one client (by user name: each measured client has a
// kubeconfig of its own) in [from, to).
func requests(sb *sandbox.Sandbox, user string, from, to time.Time) ([]auditlog.Request, error) {
	return auditlog.Read(sb.AuditLogPath(), from, func(r auditlog.Request) bool {
		return r.User == user && strings.HasPrefix(r.UserAgent, "kubectl-pyroll/") && r.Time.Before(to)
	})
}

// verbSummary is "watch 4, get 1" (sorted by verb), or "none".
func verbSummary(counts map[string]int, perMinute float64) string {
	if len(counts) == 0 {
		return "none"
	}
	verbs := make([]string, 0, len(counts))
	for v := range counts {
		verbs = append(verbs, v)
	}
	sort.Strings(verbs)
	parts := make([]string, len(verbs))
	for i, v := range verbs {
		if perMinute > 0 {
			parts[i] = fmt.Sprintf("%s %.1f", strings.ToUpper(v), float64(counts[v])*perMinute)
		} else {
			parts[i] = fmt.Sprintf("%s %d", strings.ToUpper(v), counts[v])
		}
	}
	return strings.Join(parts, ", ")
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// watchesByResource counts the WATCH requests per resource.
func watchesByResource(reqs []auditlog.Request) map[string]int {
	counts := map[string]int{}
	for _, r := range reqs {
		if r.Verb == "watch" {
			counts[r.Resource]++
		}
	}
	return counts
}

// keyedSummary is "deployments 1, events 1, pods 1, replicasets 1", or "none".
func keyedSummary(counts map[string]int) string {
	if len(counts) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}

// promQueries is Prometheus' own count of instant queries it answered
// (prometheus_http_requests_total{handler="/api/v1/query"}).
func promQueries(ctx context.Context, url string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "prometheus_http_requests_total{") && strings.Contains(line, `handler="/api/v1/query"`) {
			fields := strings.Fields(line)
			v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
			if err == nil {
				sum += v
			}
		}
	}
	return sum, nil
}

// percentile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

// deliverySummary is how late the API server delivered the timed writes to a watcher of
// its own (sorted), or why that was not measured.
func deliverySummary(sorted []time.Duration, watchErr error) string {
	if len(sorted) == 0 {
		if watchErr != nil {
			return "not measured (" + watchErr.Error() + ")"
		}
		return "not measured (no write arrived within 5 s)"
	}
	return fmt.Sprintf("p50 %s, p99 %s (n=%d)", ms(percentile(sorted, 50)), ms(percentile(sorted, 99)), len(sorted))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

var phaseCount = regexp.MustCompile(`(\d+) (Failed|Degraded|Halted|Progressing|Complete)`)

// headerRollouts sums the header's phase counts ("1 Progressing 199 Complete" is 200).
func headerRollouts(screen string) int {
	for _, line := range strings.Split(screen, "\n") {
		if !strings.Contains(line, "kubectl pyroll") {
			continue
		}
		n := 0
		for _, m := range phaseCount.FindAllStringSubmatch(line, -1) {
			c, _ := strconv.Atoi(m[1])
			n += c
		}
		return n
	}
	return 0
}

// rowOf is the list row of the rollout name ("NAME" or, with -A, "NAMESPACE/NAME").
func rowOf(screen, name string) string {
	for _, line := range strings.Split(screen, "\n") {
		if f := strings.Fields(line); len(f) > 0 && (f[0] == name || strings.HasSuffix(f[0], "/"+name)) {
			return line
		}
	}
	return ""
}

var ageToken = regexp.MustCompile(`^(\d+[smhd])+$`)

// onlyAgesDiffer reports whether two screens differ at most in age cells ("7m" -> "8m").
func onlyAgesDiffer(a, b string) bool {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(la) != len(lb) {
		return false
	}
	for i := range la {
		if la[i] == lb[i] {
			continue
		}
		fa, fb := strings.Fields(la[i]), strings.Fields(lb[i])
		if len(fa) != len(fb) {
			return false
		}
		for j := range fa {
			if fa[j] != fb[j] && !(ageToken.MatchString(fa[j]) && ageToken.MatchString(fb[j])) {
				return false
			}
		}
	}
	return true
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// waitQuiet waits until the file has not grown for quiet (at most limit), and returns its size.
func waitQuiet(ctx context.Context, path string, quiet, limit time.Duration) int64 {
	deadline := time.Now().Add(limit)
	size, since := fileSize(path), time.Now()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		if s := fileSize(path); s != size {
			size, since = s, time.Now()
		} else if time.Since(since) >= quiet {
			break
		}
	}
	return size
}

// burst is output written to the terminal around one moment.
type burst struct {
	at    time.Duration // since the console started
	bytes int64
}

// watchBytes samples the file's size every 50 ms for d and returns the bursts of growth
// (growth less than 500 ms apart is one burst).
func watchBytes(ctx context.Context, path string, d time.Duration, started time.Time) (int64, []burst) {
	start := fileSize(path)
	last := start
	var bursts []burst
	var lastGrowth time.Time
	end := time.Now().Add(d)
	for time.Now().Before(end) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		s := fileSize(path)
		if s == last {
			continue
		}
		now := time.Now()
		if len(bursts) > 0 && now.Sub(lastGrowth) < 500*time.Millisecond {
			bursts[len(bursts)-1].bytes += s - last
		} else {
			bursts = append(bursts, burst{at: now.Sub(started), bytes: s - last})
		}
		last, lastGrowth = s, now
	}
	return last - start, bursts
}

func machine() string {
	model := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(data), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.1f GiB RAM", float64(kb)/1024/1024)
		}
	}
	load := ""
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) > 0 {
			load = ", load " + f[0] + " at the end"
		}
	}
	return fmt.Sprintf("%d CPUs (%s)%s%s", numCPU(), model, mem, load)
}

// rssSplit is the resident set's two parts: anonymous memory (heap, stacks: what grows with
// the cluster) and pages mapped from files (the binary's code and read-only data).
func rssSplit(pid int) (anon, file int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		var kb int64
		if _, err := fmt.Sscanf(line, "RssAnon: %d kB", &kb); err == nil {
			anon = kb * 1024
		} else if _, err := fmt.Sscanf(line, "RssFile: %d kB", &kb); err == nil {
			file = kb * 1024
		}
	}
	return anon, file
}

// rssFigure is "61.2 MB (anon 20.1 MB, file-backed 41.1 MB)".
func rssFigure(pid int, rss int64) string {
	anon, file := rssSplit(pid)
	return fmt.Sprintf("%s (anon %s, binary-mapped %s)", mb(rss), mb(anon), mb(file))
}

var gcLine = regexp.MustCompile(`(\d+)->(\d+)->(\d+) MB, (\d+) MB goal`)

// liveHeap reads the last GC's live heap and the next goal from GODEBUG=gctrace=1 output.
func liveHeap(gctrace string) string {
	all := gcLine.FindAllStringSubmatch(gctrace, -1)
	if len(all) == 0 {
		return "no GC yet"
	}
	m := all[len(all)-1]
	return fmt.Sprintf("live heap %s MB after the last of %d GCs, goal %s MB", m[3], len(all), m[4])
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// promRounds samples Prometheus' query counter every 250 ms until ctx ends, and returns
// the queries and the rounds they came in (queries less than 2 s apart are one round).
func promRounds(ctx context.Context, url string) (queries float64, rounds int, err error) {
	last, err := promQueries(ctx, url)
	if err != nil {
		return 0, 0, err
	}
	start := last
	var lastGrowth time.Time
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return last - start, rounds, nil
		case <-tick.C:
		}
		q, err := promQueries(context.Background(), url)
		if err != nil || q == last {
			continue
		}
		if time.Since(lastGrowth) > 2*time.Second {
			rounds++
		}
		last, lastGrowth = q, time.Now()
	}
}

// waitGrowth polls the file's size every 2 ms until it exceeds from, and returns when.
func waitGrowth(ctx context.Context, path string, from int64, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for ctx.Err() == nil {
		now := time.Now()
		if fileSize(path) > from {
			return now, nil
		}
		if now.After(deadline) {
			return now, fmt.Errorf("nothing written to the terminal within %s", limit)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Now(), ctx.Err()
}

// memWatch samples the machine's memory in use (MemTotal - MemAvailable) and the resident
// sets of the processes started under the run's directory (the sandbox's etcd, API server,
// controllers, kwok, Prometheus; the measured kubectl-pyroll), and keeps the peaks.
type memWatch struct {
	mu        sync.Mutex
	startUsed int64
	peakUsed  int64
	peakProc  map[string]int64 // by command name, summed over its processes at one sample
	stop      context.CancelFunc
	done      chan struct{}
}

func watchMemory(ctx context.Context, dir string, every time.Duration) *memWatch {
	ctx, cancel := context.WithCancel(ctx)
	m := &memWatch{peakProc: map[string]int64{}, stop: cancel, done: make(chan struct{})}
	m.startUsed = memUsed()
	go func() {
		defer close(m.done)
		var pids map[int]string
		var lastScan time.Time
		for {
			if time.Since(lastScan) > 10*time.Second {
				pids, lastScan = processesUnder(dir), time.Now()
			}
			used := memUsed()
			sums := map[string]int64{}
			for pid, name := range pids {
				if rss, err := rssBytes(pid); err == nil {
					sums[name] += rss
				}
			}
			m.mu.Lock()
			m.peakUsed = max(m.peakUsed, used)
			for name, rss := range sums {
				m.peakProc[name] = max(m.peakProc[name], rss)
			}
			m.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-time.After(every):
			}
		}
	}()
	return m
}

// summary stops the sampling and says what it saw: "machine memory in use 1.2 GB at start,
// peak 5.3 GB; peak RSS: kube-apiserver 2.1 GB, etcd 0.9 GB, ...".
func (m *memWatch) summary() string {
	m.stop()
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.peakProc))
	for name := range m.peakProc {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return m.peakProc[names[i]] > m.peakProc[names[j]] })
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s %s", name, gb(m.peakProc[name]))
	}
	return fmt.Sprintf("machine memory in use %s at start, peak %s; peak RSS by process: %s", gb(m.startUsed), gb(m.peakUsed), strings.Join(parts, ", "))
}

func gb(b int64) string { return fmt.Sprintf("%.2f GB", float64(b)/1e9) }

// memUsed is MemTotal - MemAvailable, in bytes.
func memUsed() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var total, avail int64
	for _, line := range strings.Split(string(data), "\n") {
		var kb int64
		if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
			total = kb
		} else if _, err := fmt.Sscanf(line, "MemAvailable: %d kB", &kb); err == nil {
			avail = kb
		}
	}
	return (total - avail) * 1024
}

// processesUnder finds the processes whose command line mentions dir: pid -> command name.
func processesUnder(dir string) map[int]string {
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !strings.Contains(string(cmdline), dir) {
			continue
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		out[pid] = strings.TrimSpace(string(comm))
	}
	return out
}

// everyPodRead says whether the console has read every pod: its footer no longer says
// "reading pods" (the rows come before the pods).
func everyPodRead(screen string) bool { return !strings.Contains(screen, "reading pods") }

// runUntilEveryRollout types command into tm's shell, presses Enter and waits (polling
// every poll) until the console's header counts every rollout of wl and until more holds
// too (nil: nothing more): when the command started, and when that frame was seen.
func runUntilEveryRollout(ctx context.Context, tm *tmux.Session, command string, wl scaleWorkload, poll time.Duration, more func(screen string) bool) (started, firstFrame time.Time, err error) {
	if err := tm.Type(command); err != nil {
		return time.Time{}, time.Time{}, err
	}
	started = time.Now()
	if err := tm.Press("Enter"); err != nil {
		return started, time.Time{}, err
	}
	_, firstFrame, err = tm.WaitScreen(ctx, 5*time.Minute, poll, "the header counting every rollout", func(s string) bool {
		return headerRollouts(s) >= wl.deployments() && (more == nil || more(s))
	})
	return started, firstFrame, err
}

// startTerminal is a tmux terminal of terminalWidth x terminalHeight on socket, its shell
// at its prompt, with home as HOME (and its .config as XDG_CONFIG_HOME: no user config).
func startTerminal(ctx context.Context, socket, home string) (*tmux.Session, error) {
	tm, err := tmux.Start(tmux.Options{Socket: socket, Width: terminalWidth, Height: terminalHeight,
		Home: home, Env: []string{"XDG_CONFIG_HOME=" + filepath.Join(home, ".config")}})
	if err != nil {
		return nil, err
	}
	if _, _, err := tm.WaitScreen(ctx, 30*time.Second, 50*time.Millisecond, "the shell prompt", func(s string) bool { return strings.Contains(s, "$") }); err != nil {
		tm.Kill()
		return nil, err
	}
	return tm, nil
}

// settleAndRecord sends everything the console writes from now on to raw, then waits for
// the first metrics round to land (the error-rate column says n/a: kwok pods have no
// series) and the terminal to go quiet: the start of an idle window.
func settleAndRecord(ctx context.Context, tm *tmux.Session, raw string) error {
	if err := tm.PipeTo(raw); err != nil {
		return err
	}
	if _, _, err := tm.WaitScreen(ctx, time.Minute, 100*time.Millisecond, "the error-rate column filled (n/a: no series for kwok pods)", func(s string) bool {
		return strings.Contains(s, "n/a")
	}); err != nil {
		return err
	}
	waitQuiet(ctx, raw, 2*time.Second, 30*time.Second)
	return nil
}
