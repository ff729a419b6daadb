package sandbox

import (
	"fmt"
	"net"
	"strconv"
)

// freePorts asks the kernel for n distinct free ports on 127.0.0.1. They are free at the
// moment of asking; a component that then fails to bind is reported with its log.
func freePorts(n int) ([]int, error) {
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

type ports struct {
	etcdClient, etcdPeer, apiserver, controllerManager, scheduler, kwok, prometheus int
	argoMetrics, argoHealthz                                                        int
	// Flux's (Options.Flux): source-controller's artifact server, metrics and health probe,
	// kustomize-controller's metrics and health probe.
	fluxStorage, fluxSourceMetrics, fluxSourceHealth, fluxKustomizeMetrics, fluxKustomizeHealth int
}

func allocatePorts() (ports, error) {
	free, err := freePorts(14)
	if err != nil {
		return ports{}, err
	}
	return ports{
		etcdClient: free[0], etcdPeer: free[1], apiserver: free[2], controllerManager: free[3],
		scheduler: free[4], kwok: free[5], prometheus: free[6],
		argoMetrics: free[7], argoHealthz: free[8],
		fluxStorage: free[9], fluxSourceMetrics: free[10], fluxSourceHealth: free[11],
		fluxKustomizeMetrics: free[12], fluxKustomizeHealth: free[13],
	}, nil
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
