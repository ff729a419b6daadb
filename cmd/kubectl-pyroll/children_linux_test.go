package main

import (
	"os"
	"os/exec"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// A child that started one of its own (as `sh -c` does for a plugin's command): both are
// found, by either reading of /proc, and both end.
func TestEndChildrenEndsTheWholeTree(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "sleep 600 & wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var tree []int
	deadline := time.Now().Add(10 * time.Second)
	for len(tree) < 2 && time.Now().Before(deadline) {
		tree = descendants(os.Getpid())
		time.Sleep(10 * time.Millisecond)
	}
	if len(tree) != 2 || tree[0] != cmd.Process.Pid {
		t.Fatalf("descendants %v; want the shell %d, then its sleep", tree, cmd.Process.Pid)
	}
	scanned := []int{}
	parents := scanParents()
	for _, p := range []int{os.Getpid(), tree[0]} {
		c, _ := parents(p)
		scanned = append(scanned, c...)
	}
	if !slices.Equal(scanned, tree) {
		t.Errorf("from every process's parent: %v; from the children files: %v", scanned, tree)
	}
	endChildren()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the shell still runs")
	}
	if anyAlive(tree) {
		t.Errorf("still running: %v", tree)
	}
}

// Requests queued behind a hung exec plugin run it again as soon as it ends (client-go holds
// a lock while its plugin runs): endChildren ends each new one until none comes.
func TestEndChildrenOutlastsRequestsQueuedBehindAPlugin(t *testing.T) {
	const queued = 3
	var started atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range queued {
			cmd := exec.Command("sleep", "600")
			if err := cmd.Start(); err != nil {
				return
			}
			started.Add(1)
			_ = cmd.Wait()
		}
	}()
	for started.Load() == 0 || len(descendants(os.Getpid())) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	endChildren()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a plugin still runs")
	}
	if n := started.Load(); n != queued {
		t.Errorf("%d of %d queued plugins started before endChildren returned", n, queued)
	}
}
