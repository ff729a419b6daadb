package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
)

// pinCores puts the sandbox's control plane on CPU 0 and this program on CPU 1, and with
// it what it starts afterwards (the tmux server, the consoles, its bare watcher: affinity
// is inherited): -pin, the console's figures with a core the control plane does not take.
// On two shared cores the console's own latency is mostly its wait for a core while the
// API server, etcd and the controllers work; this shows how much.
func pinCores(sandboxDir string) (string, error) {
	pids, err := sandbox.RecordedPIDs(sandboxDir)
	if err != nil || len(pids) < 2 {
		return "", fmt.Errorf("the sandbox's process groups in %s: %v (%d recorded)", sandboxDir, err, len(pids))
	}
	groups := pids[1:] // the first is this program
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return "", err
	}
	var pinned []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
		end := strings.LastIndexByte(string(stat), ')')
		fields := strings.Fields(string(stat[end+1:]))
		if end < 0 || len(fields) < 3 {
			continue
		}
		comm := string(stat[strings.IndexByte(string(stat), '(')+1 : end])
		if pgrp, err := strconv.Atoi(fields[2]); err == nil && slices.Contains(groups, pgrp) {
			if out, err := exec.Command("taskset", "-a", "-p", "-c", "0", strconv.Itoa(pid)).CombinedOutput(); err != nil {
				return "", fmt.Errorf("taskset %s (%d): %v: %s", comm, pid, err, out)
			}
			pinned = append(pinned, comm)
		}
	}
	if out, err := exec.Command("taskset", "-a", "-p", "-c", "1", strconv.Itoa(os.Getpid())).CombinedOutput(); err != nil {
		return "", fmt.Errorf("taskset scalebench: %v: %s", err, out)
	}
	slices.Sort(pinned)
	return strings.Join(slices.Compact(pinned), ", "), nil
}
