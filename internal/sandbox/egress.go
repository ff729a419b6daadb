package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// The API server refuses to proxy to loopback pod IPs ("address not allowed"), so kwok hands
// out pod IPs from podCIDR and the API server reaches pods through this HTTP CONNECT proxy
// (its "cluster" egress selector, on a unix socket). The proxy rewrites a pod IP
// 10.244.c.d to the loopback address 127.N.c.d where the pod runner serves that pod, N being
// this sandbox's own loopback block. Only loopback addresses are ever dialled.
const podCIDR = "10.244.0.1/16"

type egressProxy struct {
	listener net.Listener
	server   *http.Server
	loopback loopbackBlock
	wg       sync.WaitGroup
}

func startEgressProxy(socketPath string, block loopbackBlock) (*egressProxy, error) {
	_ = os.Remove(socketPath)
	l, err := net.Listen("unix", socketPath)
	if err != nil {
		return nil, fmt.Errorf("egress proxy: listen on %s: %w", socketPath, err)
	}
	p := &egressProxy{listener: l, loopback: block}
	p.server = &http.Server{Handler: http.HandlerFunc(p.serveConnect), ReadHeaderTimeout: 10 * time.Second}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_ = p.server.Serve(l)
	}()
	return p, nil
}

func (p *egressProxy) serveConnect(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "only CONNECT is served", http.StatusMethodNotAllowed)
		return
	}
	target, err := p.loopback.dialAddress(r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	upstream, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		http.Error(w, fmt.Sprintf("dial %s (for %s): %v", target, r.Host, err), http.StatusBadGateway)
		return
	}
	hijacker, ok := w.(http.Hijacker)
	if !ok {
		upstream.Close()
		http.Error(w, "cannot hijack", http.StatusInternalServerError)
		return
	}
	client, buffered, err := hijacker.Hijack()
	if err != nil {
		upstream.Close()
		return
	}
	_, _ = client.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	go pipe(upstream, client, buffered)
}

func pipe(upstream, client net.Conn, buffered io.Reader) {
	defer upstream.Close()
	defer client.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(upstream, buffered); done <- struct{}{} }()
	go func() { _, _ = io.Copy(client, upstream); done <- struct{}{} }()
	<-done
}

func (p *egressProxy) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := p.server.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		_ = p.server.Close()
	}
	p.wg.Wait()
}
