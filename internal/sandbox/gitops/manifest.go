// Package gitops puts the sandbox's sample workloads (package workload's Releases) under the
// GitOps tools real clusters run, so tests see the objects and fields those tools really write:
//
//   - Flux: a Deployment's manifest committed to the sandbox's Git server, pulled by a Flux
//     GitRepository and applied by a Kustomization (sandbox.Options.Flux runs the controllers);
//   - Helm: a tiny chart written to a temporary folder and installed or upgraded by the real
//     helm CLI (any sandbox);
//   - Argo CD: an Application object against Argo CD's real CRD (sandbox.Options.ArgoCDCRD) and
//     the tracking-id annotation Argo CD puts on what it manages. No Argo CD controller runs.
//
// Flux's and Argo CD's objects are read and written with the dynamic client: their Go modules
// never enter the product's go.mod.
package gitops

import (
	"bytes"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	jsonserializer "k8s.io/apimachinery/pkg/runtime/serializer/json"
)

var yamlSerializer = jsonserializer.NewSerializerWithOptions(jsonserializer.DefaultMetaFactory, nil, nil, jsonserializer.SerializerOptions{Yaml: true})

// deploymentYAML is d as a manifest a person would commit: apiVersion and kind set, no
// status, no creationTimestamp.
func deploymentYAML(d *appsv1.Deployment) (string, error) {
	d = d.DeepCopy()
	d.APIVersion, d.Kind = "apps/v1", "Deployment"
	data, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(data); err != nil {
		return "", fmt.Errorf("deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	unstructured.RemoveNestedField(obj.Object, "status")
	unstructured.RemoveNestedField(obj.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(obj.Object, "spec", "template", "metadata", "creationTimestamp")
	var out bytes.Buffer
	if err := yamlSerializer.Encode(obj, &out); err != nil {
		return "", fmt.Errorf("deployment %s/%s as YAML: %w", d.Namespace, d.Name, err)
	}
	return out.String(), nil
}
