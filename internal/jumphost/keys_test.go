package jumphost

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

func newKey(t *testing.T) (gossh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer, strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey())))
}

func TestParseAuthorizedKeys(t *testing.T) {
	_, k1 := newKey(t)
	_, k2 := newKey(t)
	_, k3 := newKey(t)
	_, k4 := newKey(t)
	file := strings.Join([]string{
		"# the on-call rota",
		"",
		`pyroll-user="alice@example.com",pyroll-groups="sre, oncall" ` + k1 + " alice laptop",
		`PYROLL-USER="bob@example.com",pyroll-write,from="10.0.0.0/8,!10.9.9.9",no-port-forwarding ` + k2,
		`pyroll-user="say \"hi\"",restrict ` + k3 + " quoted",
		"   " + k4 + " no user",
		`pyroll-user="carol",command="/bin/sh" ` + k4,
		`pyroll-user="dave",expiry-time="20300101" ` + k4,
		`pyroll-user=dave ` + k4,
		`pyroll-user="" ` + k4,
		`pyroll-user="eve",pyroll-groups="a,,b" ` + k4,
		`pyroll-write="yes",pyroll-user="eve" ` + k4,
		`pyroll-user="eve",pyroll-user="mallory" ` + k4,
		`pyroll-user="e` + "\x01" + `ve" ` + k4,
		"ssh-ed25519 not-base64",
		// from= as sshd reads it: an entry it cannot read refuses the line, whatever
		// the others allow (here * would let in the block the ! meant to keep out).
		`pyroll-user="frank",from="!192.168.1/24,*" ` + k4,
		`pyroll-user="frank",from="10.1.2.3/8" ` + k4,
		`pyroll-user="frank",from="10.0.0.0/33,*" ` + k4,
		`pyroll-user="frank",from="!,10.0.0.1" ` + k4,
		`pyroll-user="frank",from="*,!!10.0.0.1" ` + k4,
		`pyroll-user="grace",from="*.example.com,10.1.?.*,::1,fe80::/10,!10.9.0.0/16,0.0.0.0/0" ` + k4,
	}, "\n")
	entries, errs := ParseAuthorizedKeys(strings.NewReader(file))
	got := map[int]Identity{}
	for _, e := range entries {
		got[e.Line] = Identity{User: e.User, Groups: e.Groups, Write: e.Write, Comment: e.Comment}
		if !strings.HasPrefix(e.Fingerprint, "SHA256:") {
			t.Errorf("line %d: fingerprint %q", e.Line, e.Fingerprint)
		}
	}
	want := map[int]Identity{
		3:  {User: "alice@example.com", Groups: []string{"sre", "oncall"}, Comment: "alice laptop"},
		4:  {User: "bob@example.com", Write: true},
		5:  {User: `say "hi"`, Comment: "quoted"},
		21: {User: "grace"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entries:\n got %+v\nwant %+v", got, want)
	}
	if from := entries[1].From; !reflect.DeepEqual(from, []string{"10.0.0.0/8", "!10.9.9.9"}) {
		t.Errorf("bob's from: %q", from)
	}
	wantErrs := map[int]string{
		6:  "no pyroll-user",
		7:  `option "command" is not supported`,
		8:  `option "expiry-time" is not supported`,
		9:  "must be in double quotes",
		10: "empty name",
		11: "empty name",
		12: "takes no value",
		13: "given twice",
		14: "control character",
		15: "not a public key",
		16: `from: pattern "!192.168.1/24" is not a CIDR block`,
		17: `from: pattern "10.1.2.3/8" has address bits set past its /8 mask (sshd refuses it; the block is 10.0.0.0/8)`,
		18: `from: pattern "10.0.0.0/33" is not a CIDR block`,
		19: `from: an empty pattern in the list ("!")`,
		20: `from: pattern "!!10.0.0.1": one ! negates`,
	}
	gotErrs := map[int]string{}
	for _, e := range errs {
		gotErrs[e.Line] = e.Error()
	}
	for line, part := range wantErrs {
		if !strings.Contains(gotErrs[line], part) {
			t.Errorf("line %d: error %q; want one saying %q", line, gotErrs[line], part)
		}
	}
	if len(gotErrs) != len(wantErrs) {
		t.Errorf("errors: %v", gotErrs)
	}
}

func TestLookupReadsTheFileEachTimeAndHonoursFrom(t *testing.T) {
	alice, aliceLine := newKey(t)
	bob, bobLine := newKey(t)
	stranger, _ := newKey(t)
	path := filepath.Join(t.TempDir(), "keys")
	write := func(lines ...string) {
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`pyroll-user="alice" `+aliceLine, `pyroll-user="bob",from="10.0.0.0/8,!10.9.9.9,192.168.1.?" `+bobLine)
	from := func(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 40000} }

	if id, err := Lookup(path, alice.PublicKey(), from("203.0.113.7")); err != nil || id.User != "alice" || id.Line != 1 {
		t.Errorf("alice: %+v, %v", id, err)
	}
	if _, err := Lookup(path, stranger.PublicKey(), from("10.1.1.1")); err != ErrUnknownKey {
		t.Errorf("a stranger's key: %v; want ErrUnknownKey", err)
	}
	for ip, ok := range map[string]bool{"10.1.2.3": true, "10.9.9.9": false, "192.168.1.7": true, "192.168.1.70": false, "203.0.113.7": false} {
		_, err := Lookup(path, bob.PublicKey(), from(ip))
		if (err == nil) != ok {
			t.Errorf("bob from %s: %v; want allowed=%v", ip, err, ok)
		}
	}
	write(`pyroll-user="bob",from="10.0.0.0/8" ` + bobLine) // alice's line removed: revoked at once
	if _, err := Lookup(path, alice.PublicKey(), from("203.0.113.7")); err != ErrUnknownKey {
		t.Errorf("alice after her line went: %v; want ErrUnknownKey", err)
	}
}

// from= matches as sshd's addr_match_list: * and ? only ([ is itself), an IPv6 pattern
// whatever its case, an IPv4 client over an IPv6 socket as IPv4.
func TestFromMatchesAsSshd(t *testing.T) {
	for _, c := range []struct {
		from, remote string
		want         bool
	}{
		{"10.0.0.[1]", "10.0.0.1", false},
		{"10.0.0.?", "10.0.0.1", true},
		{"10.0.0.?", "10.0.0.10", false},
		{"10.*.1", "10.200.3.1", true},
		{"FE80::*", "fe80::1", true},
		{"fe80::/10", "fe80::1", true},
		{"10.0.0.0/8", "::ffff:10.1.2.3", true},
		{"::ffff:10.1.2.3", "10.1.2.3", false},
		{"*,!10.9.0.0/16", "10.9.1.1", false},
		{"*.example.com", "10.0.0.1", false},
	} {
		if err := checkFromPatterns(c.from); err != nil {
			t.Errorf("from=%q: %v", c.from, err)
		}
		e := Entry{From: strings.Split(c.from, ",")}
		if got := e.allows(&net.TCPAddr{IP: net.ParseIP(c.remote), Port: 22}); got != c.want {
			t.Errorf("from=%q, client %s: allowed=%v; want %v", c.from, c.remote, got, c.want)
		}
	}
}

func checkFromPatterns(list string) error {
	for _, p := range strings.Split(list, ",") {
		if err := checkFromPattern(p); err != nil {
			return err
		}
	}
	return nil
}
