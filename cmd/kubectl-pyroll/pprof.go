//go:build pprof

package main

// Built only with `-tags pprof` (for memory and CPU work, never shipped): serves
// net/http/pprof on $PYROLL_PPROF (e.g. 127.0.0.1:6060) while the program runs.

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("PYROLL_PPROF"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
