package ref

import "testing"

func TestParseArg(t *testing.T) {
	for _, tc := range []struct {
		arg      string
		kind     Kind
		name     string
		wantFail bool
	}{
		{arg: "orders-api", name: "orders-api"},
		{arg: "deployment/orders-api", kind: Deployment, name: "orders-api"},
		{arg: "deploy/orders-api", kind: Deployment, name: "orders-api"},
		{arg: "Deployments/orders-api", kind: Deployment, name: "orders-api"},
		{arg: "deployment.apps/orders-api", kind: Deployment, name: "orders-api"},
		{arg: "rollout/checkout", kind: ArgoRollout, name: "checkout"},
		{arg: "ro/checkout", kind: ArgoRollout, name: "checkout"},
		{arg: "statefulset/db", wantFail: true},
		{arg: "deployment/", wantFail: true},
		{arg: "deployment/a/b", wantFail: true},
		{arg: "", wantFail: true},
	} {
		kind, name, err := ParseArg(tc.arg)
		if (err != nil) != tc.wantFail {
			t.Errorf("ParseArg(%q) error = %v, want failure %v", tc.arg, err, tc.wantFail)
			continue
		}
		if kind != tc.kind || name != tc.name {
			t.Errorf("ParseArg(%q) = %q, %q; want %q, %q", tc.arg, kind, name, tc.kind, tc.name)
		}
	}
}

func TestRolloutsOfTwoKindsWithOneNameAreTwoKeys(t *testing.T) {
	seen := map[Rollout]bool{{Kind: Deployment, Namespace: "shop", Name: "checkout"}: true}
	if seen[Rollout{Kind: ArgoRollout, Namespace: "shop", Name: "checkout"}] {
		t.Fatal("a Rollout and a Deployment of the same name share a key")
	}
	if got := (Rollout{Kind: Deployment, Namespace: "shop", Name: "checkout"}).String(); got != "deployment/checkout in shop" {
		t.Fatalf("String() = %q", got)
	}
}

// The same rollout read through two contexts is two keys; each names its context, and
// Local is what its own cluster is asked about.
func TestOneRolloutInTwoClustersIsTwoKeys(t *testing.T) {
	eu := Rollout{Cluster: "prod-eu", Kind: Deployment, Namespace: "shop", Name: "orders-api"}
	us := eu
	us.Cluster = "prod-us"
	seen := map[Rollout]bool{eu: true}
	if seen[us] || seen[eu.Local()] {
		t.Fatal("one rollout in two clusters shares a key")
	}
	if got := eu.String(); got != "deployment/orders-api in shop (context prod-eu)" {
		t.Fatalf("String() = %q", got)
	}
	if l := eu.Local(); l.Cluster != "" || l.Name != "orders-api" || l.Namespace != "shop" || l.Kind != Deployment {
		t.Fatalf("Local() = %+v", l)
	}
}
