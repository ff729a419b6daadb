package sandbox

import (
	"net"
	"os"
	"path/filepath"
)

// pkiFiles are the control plane's certificates and keys, written under pki/ at each start:
// the authority, the API server's serving pair, the admin's, the API server's kubelet client
// pair (for kwok), kwok's serving pair and the service-account signing key.
type pkiFiles struct {
	caCert, caKey, serverCert, serverKey, adminCert, adminKey, kubeletClientCert, kubeletClientKey, serviceAccountKey string
	kwokCert, kwokKey                                                                                                 string
	admin                                                                                                             keyPair
}

// writePKI makes a new certificate authority (certs.go) and issues and writes every pair the
// control plane needs.
func (s *Sandbox) writePKI() (pkiFiles, error) {
	dir := s.path("pki")
	ca, err := newAuthority()
	if err != nil {
		return pkiFiles{}, err
	}
	s.ca = ca
	var f pkiFiles
	f.caCert = filepath.Join(dir, "ca.crt")
	f.caKey = filepath.Join(dir, "ca.key")
	caKey, err := ca.keyPEM()
	if err != nil {
		return f, err
	}
	if err := os.WriteFile(f.caCert, ca.certPEM, 0o644); err != nil {
		return f, err
	}
	if err := os.WriteFile(f.caKey, caKey, 0o600); err != nil {
		return f, err
	}
	server, err := ca.issue("kube-apiserver", nil, []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.96.0.1")},
		[]string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"})
	if err != nil {
		return f, err
	}
	if f.serverCert, f.serverKey, err = server.write(dir, "apiserver"); err != nil {
		return f, err
	}
	if f.admin, err = ca.issue("pyroll-admin", []string{"system:masters"}, nil, nil); err != nil {
		return f, err
	}
	if f.adminCert, f.adminKey, err = f.admin.write(dir, "admin"); err != nil {
		return f, err
	}
	kubeletClient, err := ca.issue("kube-apiserver-kubelet-client", []string{"system:masters"}, nil, nil)
	if err != nil {
		return f, err
	}
	if f.kubeletClientCert, f.kubeletClientKey, err = kubeletClient.write(dir, "kubelet-client"); err != nil {
		return f, err
	}
	// kwok's kubelet API (container logs) serves HTTPS with this, on 127.0.0.1, the nodes'
	// InternalIP: the API server checks it against --kubelet-certificate-authority.
	kwokServing, err := ca.issue("kwok-kubelet", nil, []net.IP{net.ParseIP("127.0.0.1")}, []string{"localhost"})
	if err != nil {
		return f, err
	}
	if f.kwokCert, f.kwokKey, err = kwokServing.write(dir, "kwok"); err != nil {
		return f, err
	}
	// The service-account signing key: an EC key, which the API server and the
	// controller-manager both accept.
	saKey, err := ca.issue("service-accounts", nil, nil, nil)
	if err != nil {
		return f, err
	}
	f.serviceAccountKey = filepath.Join(dir, "sa.key")
	return f, os.WriteFile(f.serviceAccountKey, saKey.KeyPEM, 0o600)
}
