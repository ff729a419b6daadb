// Package jumphost is what `kubectl pyroll serve --ssh` needs besides the console: who a
// key is (the authorized-keys file with pyroll's options), the SSH server with its gate
// (what a session may ask for), the session's clocks (idle, maximum length), the host key
// and the audit log. It knows neither the Kubernetes client nor bubbletea: the console of
// a session is a middleware handed to Serve.
package jumphost

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	gossh "golang.org/x/crypto/ssh"
)

// Identity is who a key is on the cluster: the user and groups its sessions impersonate,
// and whether the key may act (pyroll-write).
type Identity struct {
	User   string
	Groups []string
	Write  bool
	// Fingerprint is the key's SHA256 fingerprint, as ssh-keygen -l prints it.
	Fingerprint string
	// Comment is the key line's comment (often the owner's e-mail), for the audit log.
	Comment string
	// Line is where the key is in the authorized-keys file.
	Line int
}

// Entry is one key line of the authorized-keys file.
type Entry struct {
	Identity
	Key gossh.PublicKey
	// From is the from="..." pattern list, empty when the key may come from anywhere.
	From []string
}

// LineError says why a line of the authorized-keys file was not taken.
type LineError struct {
	Line int
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// The options pyroll understands, and the standard ones it accepts because serve already
// does what they ask (no forwarding of any kind, no user rc). Any other option (command=,
// expiry-time=, permitopen=, no-pty, ...) refuses the key rather than ignore a restriction
// its writer meant.
const (
	optUser   = "pyroll-user"
	optGroups = "pyroll-groups"
	optWrite  = "pyroll-write"
	optFrom   = "from"
)

var alreadyEnforced = map[string]bool{
	"restrict": true, "no-port-forwarding": true, "no-agent-forwarding": true,
	"no-x11-forwarding": true, "no-user-rc": true,
}

// ParseAuthorizedKeys reads an authorized-keys file: one key a line, "# comments" and blank
// lines skipped. A line that is not a usable key (bad syntax, no pyroll-user, an option
// pyroll does not know) is left out and reported, the others are returned.
func ParseAuthorizedKeys(r io.Reader) ([]Entry, []LineError) {
	var entries []Entry
	var errs []LineError
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 16<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		e, err := parseLine(line)
		if err != nil {
			errs = append(errs, LineError{Line: n, Err: err})
			continue
		}
		e.Line = n
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, LineError{Err: err})
	}
	return entries, errs
}

func parseLine(line []byte) (Entry, error) {
	key, comment, options, _, err := gossh.ParseAuthorizedKey(line)
	if err != nil {
		return Entry{}, errors.New("not a public key (want [OPTIONS] TYPE BASE64 [COMMENT])")
	}
	e := Entry{Key: key, Identity: Identity{Fingerprint: gossh.FingerprintSHA256(key), Comment: comment}}
	seen := map[string]bool{}
	for _, opt := range options {
		name, value, hasValue, err := splitOption(opt)
		if err != nil {
			return Entry{}, err
		}
		if seen[name] {
			return Entry{}, fmt.Errorf("option %s given twice", name)
		}
		seen[name] = true
		switch {
		case name == optUser && hasValue:
			if err := checkName(value); err != nil {
				return Entry{}, fmt.Errorf("%s: %v", optUser, err)
			}
			e.User = value
		case name == optGroups && hasValue:
			for _, g := range strings.Split(value, ",") {
				g = strings.TrimSpace(g)
				if err := checkName(g); err != nil {
					return Entry{}, fmt.Errorf("%s: %v", optGroups, err)
				}
				e.Groups = append(e.Groups, g)
			}
		case name == optWrite && !hasValue:
			e.Write = true
		case name == optFrom && hasValue:
			for _, p := range strings.Split(value, ",") {
				p = strings.TrimSpace(p)
				if err := checkFromPattern(p); err != nil {
					return Entry{}, fmt.Errorf("from: %w", err)
				}
				e.From = append(e.From, p)
			}
		case alreadyEnforced[name] && !hasValue:
		case name == optUser, name == optGroups, name == optFrom:
			return Entry{}, fmt.Errorf(`option %s needs a value: %s="..."`, name, name)
		case name == optWrite || alreadyEnforced[name]:
			return Entry{}, fmt.Errorf("option %s takes no value", name)
		default:
			return Entry{}, fmt.Errorf("option %q is not supported by kubectl pyroll serve (it knows pyroll-user, pyroll-groups, pyroll-write, from, restrict, no-*-forwarding, no-user-rc)", name)
		}
	}
	if e.User == "" {
		return Entry{}, errors.New(`no pyroll-user="..." option: the key maps to no Kubernetes user`)
	}
	return e, nil
}

// splitOption splits name="value" (OpenSSH's quoting: \" is a quote inside the value).
// Option names are case-insensitive, as in sshd.
func splitOption(opt string) (name, value string, hasValue bool, err error) {
	name, raw, hasValue := strings.Cut(opt, "=")
	name = strings.ToLower(name)
	if !hasValue {
		return name, "", false, nil
	}
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", "", false, fmt.Errorf(`option %s: the value must be in double quotes: %s="..."`, name, name)
	}
	return name, strings.ReplaceAll(raw[1:len(raw)-1], `\"`, `"`), true, nil
}

// checkName accepts a Kubernetes user or group name: not empty, no control characters or
// spaces at the ends.
func checkName(s string) error {
	if s == "" {
		return errors.New("empty name")
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("%q has spaces around it", s)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%q has a control character", s)
		}
	}
	return nil
}

// ErrUnknownKey is a key that no usable line of the file names.
var ErrUnknownKey = errors.New("key not in the authorized-keys file")

// Lookup reads the authorized-keys file now (removing a line revokes its key at once) and
// returns the identity of key coming from remote; a key whose line refuses that address
// (from=) is refused. The lines left out are not said: the server says each once (Server).
func Lookup(file string, key gossh.PublicKey, remote net.Addr) (Identity, error) {
	entries, _, err := readAuthorizedKeys(file)
	if err != nil {
		return Identity{}, err
	}
	return lookup(entries, key, remote)
}

// readAuthorizedKeys reads and parses the file.
func readAuthorizedKeys(file string) ([]Entry, []LineError, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, fmt.Errorf("authorized keys: %w", err)
	}
	defer f.Close()
	entries, errs := ParseAuthorizedKeys(f)
	return entries, errs, nil
}

func lookup(entries []Entry, key gossh.PublicKey, remote net.Addr) (Identity, error) {
	want := key.Marshal()
	for _, e := range entries {
		if !bytes.Equal(e.Key.Marshal(), want) {
			continue
		}
		if !e.allows(remote) {
			return Identity{}, fmt.Errorf("key %s (line %d) is not allowed from %s (from=%q)", e.Fingerprint, e.Line, remote, strings.Join(e.From, ","))
		}
		return e.Identity, nil
	}
	return Identity{}, ErrUnknownKey
}

// checkFromPattern accepts one pattern of from="..." as sshd does (its addr_match_list):
// an address, a CIDR block whose address has no bit set past its mask, or a wildcard
// pattern (* and ?) matched against the address, each may be negated with one !. sshd
// refuses a key whose list has an entry it cannot read (an empty one, a block such as
// 10.1.2.3/8), whatever the other entries say: so does pyroll, when it reads the line.
// Stricter than sshd on one point: anything with a / is a CIDR block or an error (sshd's
// resolver reads 192.168.1 as 192.168.0.1; a pattern never matching is no better).
func checkFromPattern(p string) error {
	bare := strings.TrimPrefix(p, "!")
	switch {
	case bare == "":
		return fmt.Errorf("an empty pattern in the list (%q)", p)
	case strings.ContainsFunc(bare, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }):
		return fmt.Errorf("pattern %q has a space or a control character", p)
	case strings.HasPrefix(bare, "!"):
		return fmt.Errorf("pattern %q: one ! negates, two are not a pattern", p)
	case !strings.Contains(bare, "/"):
		return nil // an address, or a wildcard pattern
	}
	block, err := netip.ParsePrefix(bare)
	if err != nil {
		return fmt.Errorf("pattern %q is not a CIDR block (ADDRESS/BITS, e.g. 192.168.1.0/24): %w", p, err)
	}
	if masked := block.Masked(); masked != block {
		return fmt.Errorf("pattern %q has address bits set past its /%d mask (sshd refuses it; the block is %s)", p, block.Bits(), masked)
	}
	return nil
}

// allows applies from="..." as sshd does without DNS (UseDNS no): each pattern is an
// address, a CIDR block, or a wildcard (* and ?) matched against the address; a pattern
// with ! refuses what it matches, whatever the others say. No pattern matching refuses.
// The patterns were checked when the line was read (checkFromPattern).
func (e Entry) allows(remote net.Addr) bool {
	if len(e.From) == 0 {
		return true
	}
	ip, ok := addrIP(remote)
	if !ok {
		return false
	}
	allowed := false
	for _, p := range e.From {
		negated := strings.HasPrefix(p, "!")
		if matchAddress(strings.TrimPrefix(p, "!"), ip) {
			if negated {
				return false
			}
			allowed = true
		}
	}
	return allowed
}

// addrIP is the remote's address, an IPv4 address mapped in IPv6 read as IPv4 (as sshd
// does).
func addrIP(a net.Addr) (netip.Addr, bool) {
	if a == nil {
		return netip.Addr{}, false
	}
	if t, ok := a.(*net.TCPAddr); ok {
		ip, ok := netip.AddrFromSlice(t.IP)
		return ip.Unmap(), ok
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		host = a.String()
	}
	ip, err := netip.ParseAddr(host)
	return ip.Unmap(), err == nil
}

func matchAddress(pattern string, ip netip.Addr) bool {
	if strings.Contains(pattern, "/") {
		block, err := netip.ParsePrefix(pattern)
		return err == nil && block.Contains(ip)
	}
	if p, err := netip.ParseAddr(pattern); err == nil {
		return p == ip
	}
	return matchWildcard(strings.ToLower(pattern), strings.ToLower(ip.String()))
}

// matchWildcard is sshd's match_pattern: * is any run of characters, ? any one
// character, everything else itself ([ and \ included, unlike path.Match).
func matchWildcard(pattern, s string) bool {
	for pattern != "" {
		switch pattern[0] {
		case '*':
			pattern = strings.TrimLeft(pattern, "*")
			if pattern == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if matchWildcard(pattern, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			_, size := utf8.DecodeRuneInString(s)
			pattern, s = pattern[1:], s[size:]
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		}
	}
	return s == ""
}
