package jumphost

import (
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
)

// OpenRequests counts the API server requests the sessions have open: a watch stays open
// as long as its informer runs, so the count falls back when a session's watchers stop
// (what the end-to-end test checks after killing an SSH client).
type OpenRequests struct{ n atomic.Int64 }

// Wrap counts rt's requests from sent until their body is closed (or they failed).
func (o *OpenRequests) Wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		o.n.Add(1)
		resp, err := rt.RoundTrip(req)
		if err != nil || resp == nil || resp.Body == nil {
			o.n.Add(-1)
			return resp, err
		}
		resp.Body = &countedBody{ReadCloser: resp.Body, done: func() { o.n.Add(-1) }}
		return resp, nil
	})
}

// Open is how many requests are open now.
func (o *OpenRequests) Open() int64 { return o.n.Load() }

type countedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *countedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// Stats are what the debug address serves: for tests and for measuring the cost of a
// session (heap per extra console).
type Stats struct {
	Sessions        int    `json:"sessions"`
	APIRequestsOpen int64  `json:"apiRequestsOpen"`
	Goroutines      int    `json:"goroutines"`
	HeapInuseBytes  uint64 `json:"heapInuseBytes"`
	HeapAllocBytes  uint64 `json:"heapAllocBytes"`
}

// DebugHandler serves Stats as JSON at /debug/pyroll (?gc=1 collects garbage first, for a
// steady heap figure).
func DebugHandler(s *Server, open *OpenRequests) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pyroll", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") != "" {
			runtime.GC()
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		st := Stats{Sessions: s.Sessions(), APIRequestsOpen: open.Open(), Goroutines: runtime.NumGoroutine(), HeapInuseBytes: m.HeapInuse, HeapAllocBytes: m.HeapAlloc}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})
	return mux
}
