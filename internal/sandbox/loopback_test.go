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

func TestReleaseDeploymentCarriesProvenance(t *testing.T) {
	d := OrdersV2.Deployment()
	ann := d.Spec.Template.Annotations
	if ann["org.opencontainers.image.revision"] != OrdersV2.GitSHA || ann["pyroll.dev/lock-hash"] != OrdersV2.LockHash || ann[ImageDigestAnnotation] != OrdersV2.ImageDigest() {
		t.Errorf("template annotations %v lack the release's provenance", ann)
	}
	if _, crash := d.Spec.Template.Labels[CrashLabel]; crash {
		t.Errorf("a healthy release must not carry the crash label")
	}
	if SearchV2.Deployment().Spec.Template.Labels[CrashLabel] != "true" {
		t.Errorf("the crashing release must carry the crash label")
	}
}
