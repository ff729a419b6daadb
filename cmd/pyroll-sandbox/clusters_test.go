package main

import (
	"strings"
	"sync"
	"testing"
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
