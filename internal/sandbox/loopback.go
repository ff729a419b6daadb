package sandbox

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// loopbackBlock is a 127.N.0.0/16 block owned by one running sandbox, so two sandboxes on
// one machine (say `make demo` and `make test`) never serve pods on the same address.
type loopbackBlock struct {
	n    int
	lock *os.File
}

func acquireLoopbackBlock() (loopbackBlock, error) {
	for n := 100; n < 250; n++ {
		path := filepath.Join(os.TempDir(), fmt.Sprintf("pyroll-sandbox-loopback-%d.lock", n))
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return loopbackBlock{}, fmt.Errorf("loopback block lock %s: %w", path, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		return loopbackBlock{n: n, lock: f}, nil
	}
	return loopbackBlock{}, fmt.Errorf("no free loopback block: 150 sandboxes already run on this machine")
}

func (b loopbackBlock) release() {
	if b.lock != nil {
		b.lock.Close()
	}
}

// servingIP is where the pod with this pod IP is served: 10.244.c.d -> 127.N.c.d.
func (b loopbackBlock) servingIP(podIP string) (string, error) {
	ip := net.ParseIP(podIP).To4()
	_, cidr, _ := net.ParseCIDR(podCIDR)
	if ip == nil || !cidr.Contains(ip) {
		return "", fmt.Errorf("pod IP %q is not in the sandbox's pod range %s", podIP, podCIDR)
	}
	return net.IPv4(127, byte(b.n), ip[2], ip[3]).String(), nil
}

// dialAddress maps a host:port the API server wants to reach to a loopback host:port.
// Loopback targets (kwok's kubelet endpoint) pass through; anything else is refused.
func (b loopbackBlock) dialAddress(hostPort string) (string, error) {
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return "", fmt.Errorf("bad CONNECT target %q: %w", hostPort, err)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return hostPort, nil
	}
	serving, err := b.servingIP(host)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(serving, port), nil
}

// servingIPMust is servingIP for an address known to be in podCIDR.
func (b loopbackBlock) servingIPMust(podIP string) string {
	ip, err := b.servingIP(podIP)
	if err != nil {
		panic(err)
	}
	return ip
}
