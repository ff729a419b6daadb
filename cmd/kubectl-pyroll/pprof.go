//go:build pprof

package main

// Built only with `-tags pprof` (for memory and CPU work, never shipped): serves
// net/http/pprof on $PYROLL_PPROF (e.g. 127.0.0.1:6060) while the program runs, and with
// $PYROLL_CPUPROFILE (a path; "%d" in it becomes the process id) writes a CPU profile of
// the first $PYROLL_CPUPROFILE_SECONDS (default 20) seconds from start: what a first frame
// costs, which an HTTP profile started later misses. $PYROLL_TRACE (a path, "%d" as above)
// writes a runtime execution trace of the same seconds (scheduling latency, GC, blocking:
// `go tool trace -pprof=sched FILE`).

import (
	"fmt"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"time"
)

func init() {
	if addr := os.Getenv("PYROLL_PPROF"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
	if path := os.Getenv("PYROLL_TRACE"); path != "" {
		if strings.Contains(path, "%d") {
			path = fmt.Sprintf(path, os.Getpid())
		}
		if f, err := os.Create(path); err == nil && trace.Start(f) == nil {
			time.AfterFunc(profileSeconds(), func() {
				trace.Stop()
				_ = f.Close()
			})
		}
	}
	if path := os.Getenv("PYROLL_CPUPROFILE"); path != "" {
		if strings.Contains(path, "%d") {
			path = fmt.Sprintf(path, os.Getpid())
		}
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

// profileSeconds is $PYROLL_CPUPROFILE_SECONDS (default 20 s).
func profileSeconds() time.Duration {
	seconds, err := strconv.Atoi(os.Getenv("PYROLL_CPUPROFILE_SECONDS"))
	if err != nil || seconds <= 0 {
		seconds = 20
	}
	return time.Duration(seconds) * time.Second
}
