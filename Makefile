# kubectl-pyroll. The two commands that matter: `make demo` and `make test`.
GO        ?= go
PKG       := github.com/pyroll/kubectl-pyroll
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X $(PKG)/internal/version.Version=$(VERSION) -X $(PKG)/internal/version.Commit=$(COMMIT)
SANDBOX_DIR ?= .sandbox
TOOLS_BIN := .cache/bin
E2E_TIMEOUT ?= 40m

export CGO_ENABLED := 0

PREFIX    ?= $(HOME)/.local

.PHONY: all build install deps tools sandbox sandbox-down demo test unit e2e bench lint clean

all: build

## build: the static kubectl-pyroll binary (and the sandbox runner) into bin/
build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/kubectl-pyroll ./cmd/kubectl-pyroll
	$(GO) build -trimpath -o bin/pyroll-sandbox ./cmd/pyroll-sandbox

## install: kubectl-pyroll and its kubectl completion shim (kubectl_complete-pyroll) into $(PREFIX)/bin (default ~/.local/bin)
install: build
	install -d $(PREFIX)/bin
	install -m 0755 bin/kubectl-pyroll $(PREFIX)/bin/kubectl-pyroll
	bin/kubectl-pyroll completion kubectl > bin/kubectl_complete-pyroll
	install -m 0755 bin/kubectl_complete-pyroll $(PREFIX)/bin/kubectl_complete-pyroll
	@echo "installed $(PREFIX)/bin/kubectl-pyroll and kubectl_complete-pyroll; 'kubectl pyroll --help' works once $(PREFIX)/bin is on PATH"

## release-snapshot: release archives, checksums and the krew manifest in dist/, offline (goreleaser v2.15.1, built into .cache/bin when missing); not part of make test
.PHONY: release-snapshot
release-snapshot:
	@test -x $(TOOLS_BIN)/goreleaser || GOBIN=$(abspath $(TOOLS_BIN)) CGO_ENABLED=0 $(GO) install github.com/goreleaser/goreleaser/v2@v2.15.1
	$(TOOLS_BIN)/goreleaser release --snapshot --clean
	$(GO) test -count=1 ./hack/release/

## deps: Debian packages the sandbox needs (prometheus, flask, prometheus_client, gunicorn, tmux, openssh-client, git)
deps:
	@hack/install-deps.sh

## tools: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (v1.36.3), kwok, Argo Rollouts' rollouts-controller (v1.10.1), Flux's source-controller and kustomize-controller (v1.9.6) and helm (v4.3.2), built once into .cache/bin
tools:
	@hack/build-kube.sh $(TOOLS_BIN)

## sandbox: a local control plane (with Argo Rollouts) and the demo services, until Ctrl-C
sandbox: build deps tools
	bin/pyroll-sandbox up --dir $(SANDBOX_DIR) --bin $(TOOLS_BIN)

## sandbox-down: stop a sandbox started elsewhere (or left behind by a killed one)
sandbox-down:
	@$(GO) run ./cmd/pyroll-sandbox down --dir $(SANDBOX_DIR)

## demo: the sandbox with its demo services (Deployments, an Argo Rollout, one under Flux, one installed by helm), and the console on them; quitting the console stops it all; CLUSTERS=2 for two clusters in one console
# CLUSTERS=2 (up to 4): as many clusters, each with the demo, in one console (--all-contexts).
CLUSTERS ?= 1
demo: build deps tools
	bin/pyroll-sandbox run --dir $(SANDBOX_DIR) --bin $(TOOLS_BIN) --flux --clusters $(CLUSTERS) -- bin/kubectl-pyroll -n demo $(if $(filter-out 1,$(CLUSTERS)),--all-contexts)

## test: lint, unit tests (-race), then the end-to-end tests against a real sandbox
# deps first: the unit tests of internal/testkit/tmux need tmux (they skip without it).
test: lint deps unit e2e

# third_party/bubbletea is a module of its own (bubbletea with the idle-renderer patch,
# see its PATCHED.md): ./... does not reach it.
# The 10 MiB linear-time tests of internal/pytrace skip under -race (race_test.go), which slows
# them several times over while they have no goroutines to check: run them once without it.
unit:
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run '^TestFindHugeLogsInLinearTime$$' ./internal/pytrace/
	cd third_party/bubbletea && CGO_ENABLED=1 $(GO) test -race -count=1 .

e2e: build deps tools
	PYROLL_TOOLS_BIN=$(abspath $(TOOLS_BIN)) PYROLL_BIN=$(abspath bin) \
		$(GO) test -tags e2e -count=1 -timeout $(E2E_TIMEOUT) -v ./e2e/...

## bench: every figure of DESIGN.md §9 with its target: the Go benchmarks, then a sandbox scaled to 10,000 kwok pods with serve --ssh and the churn phase (~15 min on 2 cores; BENCH_SCALE=0 skips the sandbox part)
bench: build deps tools
	@hack/bench.sh

## bench-scale: only the sandbox-at-scale figures (BENCH_PODS=N for another size than 10,000)
.PHONY: bench-scale
bench-scale: build deps tools
	@BENCH_GO=0 hack/bench.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/...

clean:
	rm -rf bin
