//go:build pprof

package main

// Built only with `-tags pprof` (for memory and CPU work, never shipped): serves
// net/http/pprof on $PYROLL_PPROF (e.g. 127.0.0.1:6060) while the program runs, and with
// $PYROLL_CPUPROFILE (a path; "%d" in it becomes the process id) writes a CPU profile of
// the first $PYROLL_CPUPROFILE_SECONDS (default 20) seconds from start: what a first frame
// costs, which an HTTP profile started later misses.

import (
	"fmt"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

func init() {
	if addr := os.Getenv("PYROLL_PPROF"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
	if path := os.Getenv("PYROLL_CPUPROFILE"); path != "" {
		if strings.Contains(path, "%d") {
			path = fmt.Sprintf(path, os.Getpid())
		}
		seconds, err := strconv.Atoi(os.Getenv("PYROLL_CPUPROFILE_SECONDS"))
		if err != nil || seconds <= 0 {
			seconds = 20
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
		time.AfterFunc(time.Duration(seconds)*time.Second, func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		})
	}
}
