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
	seen := map[Rollout]bool{{Deployment, "shop", "checkout"}: true}
	if seen[Rollout{ArgoRollout, "shop", "checkout"}] {
		t.Fatal("a Rollout and a Deployment of the same name share a key")
	}
	if got := (Rollout{Deployment, "shop", "checkout"}).String(); got != "deployment/checkout in shop" {
		t.Fatalf("String() = %q", got)
	}
}
