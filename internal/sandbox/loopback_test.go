package sandbox

import "testing"

func TestLoopbackMapping(t *testing.T) {
	b := loopbackBlock{n: 123}
	cases := []struct {
		target, want string
		ok           bool
	}{
		{"10.244.0.12:8080", "127.123.0.12:8080", true},
		{"10.244.3.7:9090", "127.123.3.7:9090", true},
		{"127.0.0.1:10250", "127.0.0.1:10250", true}, // kwok's kubelet endpoint passes through
		{"10.96.0.1:443", "", false},                 // outside the pod range: never dialled
		{"192.168.1.1:80", "", false},
		{"example.com:443", "", false},
		{"no-port", "", false},
	}
	for _, c := range cases {
		got, err := b.dialAddress(c.target)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("dialAddress(%q) = %q, %v; want %q (ok=%v)", c.target, got, err, c.want, c.ok)
		}
	}
}
