package provenance

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The one-line forms below are what a diff shows for pod template parts, so
// that a change reads like the thing that changed rather than like YAML.

// describeEnvSource names where a value comes from; the reference is not the
// secret itself, so it is never masked.
func describeEnvSource(from *corev1.EnvVarSource) string {
	switch {
	case from.SecretKeyRef != nil:
		return "secret " + from.SecretKeyRef.Name + "/" + from.SecretKeyRef.Key
	case from.ConfigMapKeyRef != nil:
		return "configmap " + from.ConfigMapKeyRef.Name + "/" + from.ConfigMapKeyRef.Key
	case from.FieldRef != nil:
		return "field " + from.FieldRef.FieldPath
	case from.ResourceFieldRef != nil:
		ref := from.ResourceFieldRef
		if ref.ContainerName != "" {
			return "resource " + ref.ContainerName + "/" + ref.Resource
		}
		return "resource " + ref.Resource
	case from.FileKeyRef != nil:
		ref := from.FileKeyRef
		return "file " + ref.VolumeName + "/" + ref.Path + " key " + ref.Key
	}
	return "unknown source"
}

func describeEnvFrom(sources []corev1.EnvFromSource) string {
	parts := make([]string, 0, len(sources))
	for _, s := range sources {
		var part string
		switch {
		case s.SecretRef != nil:
			part = "secret " + s.SecretRef.Name
		case s.ConfigMapRef != nil:
			part = "configmap " + s.ConfigMapRef.Name
		default:
			continue
		}
		if s.Prefix != "" {
			part += " prefix " + s.Prefix
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}

// The API server fills these in when a probe leaves them at zero; using the
// same defaults keeps a defaulted template equal to the manifest it came from.
const (
	defaultProbePeriodSeconds    = 10
	defaultProbeTimeoutSeconds   = 1
	defaultProbeFailureThreshold = 3
)

// describeProbe summarises a probe as e.g.
// "http GET :8080/healthz every 10s timeout 1s fail 3".
func describeProbe(p *corev1.Probe) string {
	if p == nil {
		return ""
	}
	parts := []string{describeProbeAction(p.ProbeHandler)}
	parts = append(parts,
		fmt.Sprintf("every %ds", orDefault(p.PeriodSeconds, defaultProbePeriodSeconds)),
		fmt.Sprintf("timeout %ds", orDefault(p.TimeoutSeconds, defaultProbeTimeoutSeconds)),
		fmt.Sprintf("fail %d", orDefault(p.FailureThreshold, defaultProbeFailureThreshold)))
	if p.SuccessThreshold > 1 {
		parts = append(parts, fmt.Sprintf("succeed %d", p.SuccessThreshold))
	}
	if p.InitialDelaySeconds > 0 {
		parts = append(parts, fmt.Sprintf("delay %ds", p.InitialDelaySeconds))
	}
	return strings.Join(parts, " ")
}

func describeProbeAction(h corev1.ProbeHandler) string {
	switch {
	case h.HTTPGet != nil:
		scheme := "http"
		if h.HTTPGet.Scheme == corev1.URISchemeHTTPS {
			scheme = "https"
		}
		return scheme + " GET " + h.HTTPGet.Host + ":" + h.HTTPGet.Port.String() + h.HTTPGet.Path
	case h.TCPSocket != nil:
		return "tcp " + h.TCPSocket.Host + ":" + h.TCPSocket.Port.String()
	case h.GRPC != nil:
		action := "grpc :" + strconv.Itoa(int(h.GRPC.Port))
		if h.GRPC.Service != nil && *h.GRPC.Service != "" {
			action += " service " + *h.GRPC.Service
		}
		return action
	case h.Exec != nil:
		return "exec " + commandLine(h.Exec.Command)
	}
	return "no action"
}

func orDefault(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}

// commandLine joins a command or argument list, quoting the elements that
// would otherwise read as several, and masking the secrets it passes.
func commandLine(args []string) string {
	shown := maskArgs(args)
	for i, arg := range shown {
		if arg == "" || strings.ContainsAny(arg, " \t\r\n\"'") || !strconv.CanBackquote(arg) {
			shown[i] = strconv.Quote(arg)
		}
	}
	return strings.Join(shown, " ")
}
