// Package assets holds the data the binaries embed: the sandbox's sample Python service,
// its kwok stages, kwok's Logs CRD, Argo Rollouts', Flux's and Argo CD's CRDs and, later, PromQL
// presets.
package assets

import (
	"embed"
	"io/fs"
)

//go:embed sample-service/app.py
var sampleService embed.FS

//go:embed kwok/stock-stages.yaml
var kwokStockStages []byte

//go:embed kwok/pyroll-stages.yaml
var kwokPyrollStages []byte

//go:embed kwok/logs-crd.yaml
var kwokLogsCRD []byte

// Embedded rather than read from the module cache, so a sandbox needs no Go module cache
// at run time (see argo/README.md for where they come from).
//
//go:embed argo/crds/*.yaml
var argoCRDs embed.FS

// Flux's and Argo CD's, for the sandbox's GitOps options (see flux/README.md and
// argocd/README.md).
//
//go:embed flux/crds/*.yaml
var fluxCRDs embed.FS

//go:embed argocd/crds/*.yaml
var argoCDCRDs embed.FS

// SampleService is the Flask + prometheus_client service the sandbox runs for every
// Running sample pod; app.py sits at its root.
func SampleService() fs.FS {
	sub, err := fs.Sub(sampleService, "sample-service")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder exists
	}
	return sub
}

// KwokStages is every kwok Stage the sandbox runs, as one multi-document YAML.
func KwokStages() []byte {
	out := append([]byte{}, kwokStockStages...)
	out = append(out, "\n---\n"...)
	return append(out, kwokPyrollStages...)
}

// KwokLogsCRD is kwok's Logs CustomResourceDefinition (kwok.x-k8s.io/v1alpha1): per-pod
// objects that tell kwok's kubelet API which files hold a pod's container logs.
func KwokLogsCRD() []byte { return append([]byte{}, kwokLogsCRD...) }

// ArgoCRDs holds Argo Rollouts v1.10.1's CustomResourceDefinitions (Rollout, AnalysisRun,
// AnalysisTemplate, ClusterAnalysisTemplate, Experiment), one YAML file each, at its root.
func ArgoCRDs() fs.FS {
	sub, err := fs.Sub(argoCRDs, "argo/crds")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder exists
	}
	return sub
}

// FluxCRDs holds Flux v1.9.6's source-controller and kustomize-controller
// CustomResourceDefinitions, one YAML file each, at its root.
func FluxCRDs() fs.FS {
	sub, err := fs.Sub(fluxCRDs, "flux/crds")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder exists
	}
	return sub
}

// ArgoCDCRDs holds Argo CD v3.6.2's Application CustomResourceDefinition
// (applications.argoproj.io), at its root.
func ArgoCDCRDs() fs.FS {
	sub, err := fs.Sub(argoCDCRDs, "argocd/crds")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder exists
	}
	return sub
}
