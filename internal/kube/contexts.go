package kube

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// SelectContexts resolves --contexts and --all-contexts over the kubeconfig's contexts
// (available). Each entry of spec is a context's name or a /regular expression/ over the
// names; names keep the order given, a pattern's matches follow in sorted order, and a
// context named twice is one. all selects every context, sorted. An unknown name, a
// pattern that matches nothing or does not compile is an error that lists what there is.
func SelectContexts(available, spec []string, all bool) ([]string, error) {
	sorted := slices.Sorted(slices.Values(available))
	if all {
		if len(sorted) == 0 {
			return nil, fmt.Errorf("--all-contexts: the kubeconfig has no contexts")
		}
		return sorted, nil
	}
	var out []string
	add := func(name string) {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, entry := range spec {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		if len(entry) > 2 && strings.HasPrefix(entry, "/") && strings.HasSuffix(entry, "/") {
			re, err := regexp.Compile(entry[1 : len(entry)-1])
			if err != nil {
				return nil, fmt.Errorf("--contexts %s: not a regular expression: %v", entry, err)
			}
			matched := false
			for _, name := range sorted {
				if re.MatchString(name) {
					add(name)
					matched = true
				}
			}
			if !matched {
				return nil, fmt.Errorf("--contexts %s matches no context of the kubeconfig (%s)", entry, contextList(sorted))
			}
			continue
		}
		if !slices.Contains(sorted, entry) {
			return nil, fmt.Errorf("--contexts: no context %q in the kubeconfig (%s)", entry, contextList(sorted))
		}
		add(entry)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--contexts: name at least one context (%s)", contextList(sorted))
	}
	return out, nil
}

// contextList is "it has: a, b, c" for messages, shortened past a dozen.
func contextList(sorted []string) string {
	if len(sorted) == 0 {
		return "it has none"
	}
	const most = 12
	if len(sorted) > most {
		return fmt.Sprintf("it has: %s and %d more", strings.Join(sorted[:most], ", "), len(sorted)-most)
	}
	return "it has: " + strings.Join(sorted, ", ")
}

// ContextNames is the kubeconfig's contexts (--kubeconfig, $KUBECONFIG, ~/.kube/config).
func (f *Flags) ContextNames() ([]string, error) {
	raw, err := f.ClientConfig().RawConfig()
	if err != nil {
		return nil, explainConfigError(err)
	}
	names := make([]string, 0, len(raw.Contexts))
	for name := range raw.Contexts {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

// ForContext is these flags with --context set to name: every other flag (-n, --as, the
// kubeconfig) applies to each context alike.
func (f *Flags) ForContext(name string) *Flags {
	c := *f
	c.Overrides.CurrentContext = name
	return &c
}
