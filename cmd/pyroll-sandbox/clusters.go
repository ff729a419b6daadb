package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
)

// startClusters starts the first cluster with opts and the others (--clusters) alike but
// without Flux or Argo CD's CRD, in directories beside it, all at once: one after another,
// two demo clusters took minutes longer on two cores, most of it waiting on rollouts. It
// returns every cluster that started, also on an error (the caller stops them); the first
// failure stops the starts still under way.
func startClusters(ctx context.Context, opts sandbox.Options, clusters int) ([]*sandbox.Sandbox, error) {
	started := make([]*sandbox.Sandbox, clusters)
	if clusters == 1 {
		opts.Log = os.Stderr
		sb, err := sandbox.Start(ctx, opts)
		started[0] = sb
		return started, err
	}
	var stderr sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for i := range clusters {
		member := opts
		member.Log = &linePrefixer{prefix: "[" + regions[i].region + "] ", out: os.Stderr, mu: &stderr}
		if i > 0 {
			member.Dir, member.Flux, member.ArgoCDCRD = clusterDir(opts.Dir, i), false, false
		}
		g.Go(func() error {
			sb, err := sandbox.Start(gctx, member)
			if err != nil {
				return fmt.Errorf("cluster %s: %w", regions[i].region, err)
			}
			started[i] = sb
			return nil
		})
	}
	return started, g.Wait()
}

// linePrefixer writes each line with the cluster's name first, so that the interleaved
// start logs of several clusters say whose they are.
type linePrefixer struct {
	prefix string
	out    io.Writer
	mu     *sync.Mutex // shared by the clusters' writers: lines stay whole
	mid    bool        // the last write ended inside a line
}

func (w *linePrefixer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var buf bytes.Buffer
	for rest := p; len(rest) > 0; {
		if !w.mid {
			buf.WriteString(w.prefix)
		}
		line, after, found := bytes.Cut(rest, []byte("\n"))
		buf.Write(line)
		if found {
			buf.WriteByte('\n')
		}
		w.mid, rest = !found, after
	}
	if _, err := w.out.Write(buf.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
