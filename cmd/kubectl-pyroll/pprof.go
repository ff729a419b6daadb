//go:build pprof

package main

// Built only with `-tags pprof` (for memory and CPU work, never shipped): serves
// net/http/pprof on $PYROLL_PPROF (e.g. 127.0.0.1:6060) while the program runs, and with
// $PYROLL_CPUPROFILE (a path; "%d" in it becomes the process id) writes a CPU profile of
// the first $PYROLL_CPUPROFILE_SECONDS (default 20) seconds from start: what a first frame
// costs, which an HTTP profile started later misses. $PYROLL_TRACE (a path, "%d" as above)
// writes a runtime execution trace of the same seconds (scheduling latency, GC, blocking:
// `go tool trace -pprof=sched FILE`). $PYROLL_PODLOG (a path, "%d" as above) gets a line
// per pod version read, "UNIX_NANOS NAMESPACE/NAME RESOURCE_VERSION", for the whole run:
// when the console had each change (scalebench -console-podlog sets it against the rest).

import (
	"bufio"
	"fmt"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pyroll/kubectl-pyroll/internal/kube"
)

func init() {
	if addr := os.Getenv("PYROLL_PPROF"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
	if path := os.Getenv("PYROLL_TRACE"); path != "" {
		path = withPid(path)
		if f, err := os.Create(path); err == nil && trace.Start(f) == nil {
			time.AfterFunc(profileSeconds(), func() {
				trace.Stop()
				_ = f.Close()
			})
		}
	}
	if path := os.Getenv("PYROLL_PODLOG"); path != "" {
		logPodVersions(withPid(path))
	}
	if path := os.Getenv("PYROLL_CPUPROFILE"); path != "" {
		path = withPid(path)
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "pprof: %v\n", err)
			return
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "pprof: %v\n", err)
			return
		}
		time.AfterFunc(profileSeconds(), func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		})
	}
}

func withPid(path string) string {
	if strings.Contains(path, "%d") {
		return fmt.Sprintf(path, os.Getpid())
	}
	return path
}

// logPodVersions writes each pod version the watcher reads to path, flushed every 100 ms.
func logPodVersions(path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pprof: %v\n", err)
		return
	}
	var mu sync.Mutex
	w := bufio.NewWriterSize(f, 1<<20)
	kube.PodSeen = func(namespace, name, rv string) {
		now := time.Now().UnixNano()
		mu.Lock()
		fmt.Fprintf(w, "%d %s/%s %s\n", now, namespace, name, rv)
		mu.Unlock()
	}
	go func() {
		for range time.Tick(100 * time.Millisecond) {
			mu.Lock()
			_ = w.Flush()
			mu.Unlock()
		}
	}()
}

// profileSeconds is $PYROLL_CPUPROFILE_SECONDS (default 20 s).
func profileSeconds() time.Duration {
	seconds, err := strconv.Atoi(os.Getenv("PYROLL_CPUPROFILE_SECONDS"))
	if err != nil || seconds <= 0 {
		seconds = 20
	}
	return time.Duration(seconds) * time.Second
}
