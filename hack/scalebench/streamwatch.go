package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// The bare watcher of every pod runs in a process of its own (this binary, re-run as
// `scalebench stream-watch`): in the bench's own process, which drives the churn, reads
// the terminal and emulates it, the same watcher missed most versions within 5 s on
// 2026-12-06 and was at times seconds behind the console. A process with nothing else to do
// is what "a bare watcher" means; both stamp the same machine's wall clock.

// streamWatchCommand is the subcommand's name in os.Args[1].
const streamWatchCommand = "stream-watch"

// runStreamWatch is the subprocess: it watches every pod of every namespace in protobuf
// from the kubeconfig's identity, and prints "<resourceVersion> <unix nanoseconds>" for each
// arrival of namespace/pod, until its stdin closes (the parent's end).
func runStreamWatch(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("usage: scalebench %s KUBECONFIG NAMESPACE POD", streamWatchCommand)
	}
	kubeconfig, namespace, name := args[0], args[1], args[2]
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf
	cfg.QPS, cfg.Burst = 100, 100
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	pods := client.CoreV1().Pods(metav1.NamespaceAll)
	// From now: a watch without a resourceVersion would first replay every pod.
	now, err := pods.List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "watching")
	_ = out.Flush()
	// The API server may end a watch (its timeout, a busy watch cache): it is resumed from
	// the last version seen, as an informer's would be, so no change is missed.
	from := now.ResourceVersion
	for ctx.Err() == nil {
		w, err := pods.Watch(ctx, metav1.ListOptions{ResourceVersion: from, AllowWatchBookmarks: true})
		if err != nil {
			return fmt.Errorf("the watch of every pod from %s: %w", from, err)
		}
		for ev := range w.ResultChan() {
			at := time.Now()
			switch p := ev.Object.(type) {
			case *corev1.Pod:
				from = p.ResourceVersion
				if ev.Type != watch.Bookmark && p.Name == name && p.Namespace == namespace {
					fmt.Fprintf(out, "%s %d\n", p.ResourceVersion, at.UnixNano())
					_ = out.Flush()
				}
			case *metav1.Status:
				w.Stop()
				return fmt.Errorf("the watch of every pod ended: %s", p.Message)
			}
		}
		w.Stop()
	}
	return nil
}

// watchStreamEvents is an eventClock on the stream the console reads (every pod, protobuf),
// from a bare watcher in a process of its own, with the sandbox's admin identity (so the
// console's user's requests in the audit log stay the console's alone). It records only the
// flipped pod's versions.
func (f *podFlipper) watchStreamEvents(ctx context.Context, adminKubeconfig string) (*eventClock, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, streamWatchCommand, adminKubeconfig, f.pod.Namespace, f.pod.Name)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("the bare watcher of every pod: %w", err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "watching" {
		_ = stdin.Close()
		_ = cmd.Wait()
		return nil, fmt.Errorf("the bare watcher of every pod did not start: %s", strings.TrimSpace(stderr.String()))
	}
	c := &eventClock{pod: f.pod.Name, arrived: map[podVersion]time.Time{}}
	done := make(chan struct{})
	c.stop = func() {
		_ = stdin.Close()
		<-done
	}
	go func() {
		defer close(done)
		for lines.Scan() {
			rv, nanos, ok := strings.Cut(lines.Text(), " ")
			n, err := strconv.ParseInt(nanos, 10, 64)
			if !ok || err != nil {
				continue
			}
			c.mu.Lock()
			c.arrived[podVersion{pod: f.pod.Name, rv: rv}] = time.Unix(0, n)
			c.mu.Unlock()
		}
		err := cmd.Wait()
		c.mu.Lock()
		if c.ended == nil && ctx.Err() == nil && err != nil {
			c.ended = fmt.Errorf("the bare watcher of every pod ended: %v %s", err, strings.TrimSpace(stderr.String()))
		}
		c.mu.Unlock()
	}()
	return c, nil
}
