//go:build e2e

package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/pyroll/kubectl-pyroll/internal/sandbox"
)

// tcpProxy stands between a client and the API server (plain TCP: TLS and the client's
// certificate pass through) and can cut the client off, as a network partition would, while
// everything else still reaches the API server.
type tcpProxy struct {
	t        *testing.T
	addr     string // 127.0.0.1:PORT, the same after a heal
	upstream string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

func startTCPProxy(t *testing.T, upstream string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{t: t, addr: ln.Addr().String(), upstream: upstream, conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

// kubeconfig writes a copy of the kubeconfig at path whose cluster is reached through the
// proxy, and returns its path.
func (p *tcpProxy) kubeconfig(path string) string {
	p.t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.Server = "https://" + p.addr
	}
	out := filepath.Join(p.t.TempDir(), "kubeconfig-through-proxy")
	if err := clientcmd.WriteToFile(*cfg, out); err != nil {
		p.t.Fatal(err)
	}
	return out
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *tcpProxy) forward(client net.Conn) {
	upstream, err := net.Dial("tcp", p.upstream)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut meanwhile
		p.mu.Unlock()
		client.Close()
		upstream.Close()
		return
	}
	p.conns[client], p.conns[upstream] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(upstream, client)
	go pipe(client, upstream)
	<-done
	client.Close()
	upstream.Close()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, upstream)
	p.mu.Unlock()
}

// cut resets every connection through the proxy (TCP RST, as a crashed peer or a partition
// gives: the client's watches end as if closed, and resume from their resource versions) and
// refuses new ones until heal.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		if tcp, ok := c.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0)
		}
		c.Close()
		delete(p.conns, c)
	}
}

// heal accepts connections again, on the same address.
func (p *tcpProxy) heal() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err == nil {
		p.serve(ln)
		return
	}
	p.t.Fatalf("the proxy cannot listen on %s again: %v", p.addr, err)
}

// apiProxy is an HTTP proxy in front of the API server, for a client that talks plain HTTP
// to it (its kubeconfig has no credentials): it forwards every request with the sandbox's
// admin credentials, streaming watches as they come, and can end the watches it streams
// (cleanly: the client sees a watch the server closed, as after its timeout, and resumes
// it from its resource version) and hold new requests until released.
type apiProxy struct {
	t        *testing.T
	url      string
	upstream *url.URL
	client   *http.Client

	mu       sync.Mutex
	held     chan struct{} // closed when released; nil while not holding
	podsHeld chan struct{} // the same, for lists and watches of pods only
	watches  map[*proxiedWatch]struct{}
	requests []string // "VERB /path?query" in the order received
}

type proxiedWatch struct{ end chan struct{} }

func startAPIProxy(t *testing.T, sb *sandbox.Sandbox) *apiProxy {
	t.Helper()
	transport, err := rest.TransportFor(sb.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	upstream, err := url.Parse(sb.APIServerURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &apiProxy{t: t, upstream: upstream, client: &http.Client{Transport: transport}, watches: map[*proxiedWatch]struct{}{}}
	srv := httptest.NewServer(p)
	t.Cleanup(func() {
		p.release()
		p.releasePods()
		p.endWatches()
		srv.Close()
	})
	p.url = srv.URL
	return p
}

// kubeconfig writes a kubeconfig (no credentials: the proxy adds them) for the proxy.
func (p *apiProxy) kubeconfig() string {
	p.t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["proxy"] = &clientcmdapi.Cluster{Server: p.url}
	cfg.AuthInfos["proxy"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["proxy"] = &clientcmdapi.Context{Cluster: "proxy", AuthInfo: "proxy", Namespace: "default"}
	cfg.CurrentContext = "proxy"
	path := filepath.Join(p.t.TempDir(), "kubeconfig-api-proxy")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// hold makes new requests wait until release.
func (p *apiProxy) hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held == nil {
		p.held = make(chan struct{})
	}
}

func (p *apiProxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held != nil {
		close(p.held)
		p.held = nil
	}
}

// holdPods makes new lists and watches of pods wait until releasePods: a slow pod list
// (a namespace of tens of thousands of pods) while everything else answers at once.
func (p *apiProxy) holdPods() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.podsHeld == nil {
		p.podsHeld = make(chan struct{})
	}
}

func (p *apiProxy) releasePods() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.podsHeld != nil {
		close(p.podsHeld)
		p.podsHeld = nil
	}
}

// isPodsCollection says whether a request lists or watches pods (not one pod, not its log).
func isPodsCollection(req *http.Request) bool { return strings.HasSuffix(req.URL.Path, "/pods") }

// endWatches ends every watch the proxy streams, as the API server ends one at its timeout.
func (p *apiProxy) endWatches() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for w := range p.watches {
		close(w.end)
		delete(p.watches, w)
	}
}

// received is every request received so far, "VERB /path?query" (VERB "WATCH" for a watch).
func (p *apiProxy) received() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

func (p *apiProxy) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	isWatch := req.URL.Query().Get("watch") == "true"
	verb := req.Method
	if isWatch {
		verb = "WATCH"
	}
	p.mu.Lock()
	p.requests = append(p.requests, verb+" "+req.URL.RequestURI())
	held, podsHeld := p.held, p.podsHeld
	p.mu.Unlock()
	if !isPodsCollection(req) {
		podsHeld = nil
	}
	for _, h := range []chan struct{}{held, podsHeld} {
		if h == nil {
			continue
		}
		select {
		case <-h:
		case <-req.Context().Done():
			return
		}
	}
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	var w *proxiedWatch
	if isWatch {
		w = &proxiedWatch{end: make(chan struct{})}
		p.mu.Lock()
		p.watches[w] = struct{}{}
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			delete(p.watches, w)
			p.mu.Unlock()
		}()
	}
	out := req.Clone(ctx)
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host, out.Host = p.upstream.Scheme, p.upstream.Host, p.upstream.Host
	out.Header.Del("Authorization")
	resp, err := p.client.Do(out)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		rw.Header()[k] = v
	}
	rw.WriteHeader(resp.StatusCode)
	flusher, _ := rw.(http.Flusher)
	chunks := make(chan []byte)
	go func() {
		defer close(chunks)
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			if n > 0 {
				select {
				case chunks <- append([]byte(nil), buf[:n]...):
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	var end <-chan struct{}
	if w != nil {
		end = w.end
	}
	for {
		select {
		case chunk, ok := <-chunks:
			if !ok {
				return
			}
			if _, err := rw.Write(chunk); err != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		case <-end:
			return // the response ends here, cleanly, as a watch the server closed
		}
	}
}
