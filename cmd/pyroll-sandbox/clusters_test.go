package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Each line of a cluster's start log says whose it is, once, however the writes cut it.
func TestLinePrefixerPrefixesEachLineOnce(t *testing.T) {
	var out strings.Builder
	var mu sync.Mutex
	eu := &linePrefixer{prefix: "[eu] ", out: &out, mu: &mu}
	us := &linePrefixer{prefix: "[us] ", out: &out, mu: &mu}
	for _, w := range []struct {
		to   *linePrefixer
		text string
	}{{eu, "sandbox: etcd ready\nsandbox: api"}, {eu, "server ready\n"}, {us, "sandbox: etcd ready\n"}, {eu, "a\n\nb\n"}} {
		if n, err := w.to.Write([]byte(w.text)); err != nil || n != len(w.text) {
			t.Fatalf("Write(%q) = %d, %v", w.text, n, err)
		}
	}
	want := "[eu] sandbox: etcd ready\n[eu] sandbox: apiserver ready\n[us] sandbox: etcd ready\n[eu] a\n[eu] \n[eu] b\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

// down stops every cluster of a --clusters sandbox, also when the process that started
// them was killed and each left its control plane behind.
func TestDownStopsEveryCluster(t *testing.T) {
	base := filepath.Join(t.TempDir(), "sb")
	var left []*exec.Cmd
	for i := range 2 {
		dir := clusterDir(base, i)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// The recorded owner is gone (killed); its control plane's process group is not.
		plane := exec.Command("sleep", "300")
		plane.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := plane.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = plane.Process.Kill() })
		left = append(left, plane)
		pids := fmt.Sprintf("%d\n%d\n", 1<<22+i, plane.Process.Pid)
		if err := os.WriteFile(filepath.Join(dir, "pids"), []byte(pids), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := down(base); err != nil {
		t.Fatal(err)
	}
	for i, plane := range left {
		exited := make(chan error, 1)
		go func() { exited <- plane.Wait() }()
		select {
		case err := <-exited:
			if err == nil {
				t.Errorf("cluster %d's control plane exited by itself, not stopped", i)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("cluster %d's control plane still runs 10 s after down", i)
		}
		if _, err := os.Stat(filepath.Join(clusterDir(base, i), "pids")); !os.IsNotExist(err) {
			t.Errorf("cluster %d's pids file is still there (%v)", i, err)
		}
	}
}
