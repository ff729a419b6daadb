package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// applyCRDs applies every CustomResourceDefinition of the *.yaml files at the root of crds
// server-side and waits until the API server serves them all. Server-side, because a
// client-side apply would store each CRD (Argo's reach 400-600 KB) in the last-applied
// annotation, past the 256 KB annotation limit. A file may hold several documents, and may
// start with "---" (Flux's do).
func (s *Sandbox) applyCRDs(ctx context.Context, what string, crds fs.FS) error {
	files, err := fs.Glob(crds, "*.yaml")
	if err != nil || len(files) == 0 {
		return fmt.Errorf("%s CRDs: none embedded (%v)", what, err)
	}
	sort.Strings(files)
	force := true
	var names []string
	for _, file := range files {
		data, err := fs.ReadFile(crds, file)
		if err != nil {
			return fmt.Errorf("%s CRD %s: %w", what, file, err)
		}
		docs, err := yamlDocuments(data)
		if err != nil {
			return fmt.Errorf("%s CRD %s: %w", what, file, err)
		}
		for _, doc := range docs {
			var meta struct {
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
			}
			if err := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(doc), 4096).Decode(&meta); err != nil || meta.Metadata.Name == "" {
				return fmt.Errorf("%s CRD %s: no metadata.name (%v)", what, file, err)
			}
			name := meta.Metadata.Name
			_, err = s.dynamic.Resource(crdResource).Patch(ctx, name, types.ApplyYAMLPatchType, doc,
				metav1.PatchOptions{FieldManager: "pyroll-sandbox", Force: &force})
			if err != nil {
				return fmt.Errorf("apply %s CRD %s (%s): %w", what, name, file, err)
			}
			names = append(names, name)
		}
	}
	return waitFor(ctx, what+" CRDs established", nil, 60*time.Second, func(ctx context.Context) error {
		for _, name := range names {
			got, err := s.dynamic.Resource(crdResource).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !crdEstablished(got) {
				return fmt.Errorf("%s not Established yet", name)
			}
		}
		return nil
	})
}

// yamlDocuments splits a multi-document YAML file, leaving out empty documents (a leading
// "---", comments only).
func yamlDocuments(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		var obj map[string]any
		if err := utilyaml.Unmarshal(doc, &obj); err != nil {
			return nil, err
		}
		if len(obj) > 0 {
			docs = append(docs, doc)
		}
	}
}

func crdEstablished(crd *unstructured.Unstructured) bool {
	conditions, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conditions {
		if m, ok := c.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
