#!/usr/bin/env bash
# Builds the sandbox's real control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler), kwok, the Argo Rollouts controller (rollouts-controller), Flux's
# source-controller and kustomize-controller, and the Helm CLI once, into a git-ignored cache.
# Later runs find them and return at once.
# Usage: hack/build-kube.sh [BIN_DIR]   (default: .cache/bin)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$top/.cache/bin}
kube_version=v1.36.3
kwok_version=v0.8.0
argo_version=v1.10.1 # also in tools/argo/go.mod and internal/sandbox (ArgoRolloutsVersion)
flux_version=v1.9.6 # source-controller and kustomize-controller; also in tools/flux/go.mod and internal/sandbox (FluxVersion)
helm_version=v4.3.2 # also in tools/helm/go.mod and internal/sandbox (HelmVersion)
mkdir -p "$bin"
bin=$(cd "$bin" && pwd) # go install wants an absolute GOBIN
# A copy kept per machine outside any checkout, so a fresh clone (CI) does not rebuild.
machine_cache=${PYROLL_MACHINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-pyroll/kube-$kube_version-kwok-$kwok_version}
# Argo has a folder of its own, so the Kubernetes binaries cached before it are still found.
# "-loopback": the binary is patched to listen on 127.0.0.1 (see below); a change to how it is
# built needs a new folder name, or machines keep the old binary.
argo_machine_cache=${PYROLL_ARGO_MACHINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-pyroll/argo-rollouts-$argo_version-loopback}
flux_machine_cache=${PYROLL_FLUX_MACHINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-pyroll/flux-$flux_version}
helm_machine_cache=${PYROLL_HELM_MACHINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-pyroll/helm-$helm_version}
all=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)
for b in "${all[@]}"; do
  if [ ! -x "$bin/$b" ] && [ -x "$machine_cache/$b" ]; then
    cp "$machine_cache/$b" "$bin/$b.tmp" && mv "$bin/$b.tmp" "$bin/$b"
  fi
done

need=()
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  [ -x "$bin/$b" ] || need+=("$b")
done

if [ ${#need[@]} -gt 0 ]; then
  echo "sandbox: building ${need[*]} (Kubernetes $kube_version) into $bin; the first time takes about 11 minutes on 2 cores" >&2
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=36 -X $pkg.gitTreeState=clean"
  done
  cd "$top/tools/kube"
  for b in "${need[@]}"; do
    case $b in
      etcd) pkg=go.etcd.io/etcd/server/v3 ;;
      *) pkg=k8s.io/kubernetes/cmd/$b ;;
    esac
    CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$bin/$b.tmp" "$pkg"
    mv "$bin/$b.tmp" "$bin/$b"
  done
fi

if [ ! -x "$bin/kwok" ]; then
  echo "sandbox: building kwok $kwok_version into $bin" >&2
  GOBIN="$bin" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$kwok_version"
fi

if [ ! -x "$bin/rollouts-controller" ] && [ -x "$argo_machine_cache/rollouts-controller" ]; then
  cp "$argo_machine_cache/rollouts-controller" "$bin/rollouts-controller.tmp" && mv "$bin/rollouts-controller.tmp" "$bin/rollouts-controller"
fi
if [ ! -x "$bin/rollouts-controller" ]; then
  echo "sandbox: building the Argo Rollouts controller $argo_version into $bin; the first time takes about 8 minutes on 2 cores" >&2
  cd "$top/tools/argo"
  go mod download github.com/argoproj/argo-rollouts
  src=$(go list -m -f '{{.Dir}}' github.com/argoproj/argo-rollouts)
  # The controller serves its metrics and healthz on 0.0.0.0, a constant no flag changes; the
  # sandbox binds everything to 127.0.0.1 only. So the build uses a copy of the module with
  # that constant changed (go's -overlay refuses files in the module cache), through a
  # temporary copy of tools/argo's go.mod that replaces the module with it: the module cache
  # and tools/argo stay untouched.
  work=$(mktemp -d)
  trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
  cp -R "$src" "$work/argo-rollouts"
  chmod -R u+w "$work/argo-rollouts"
  file=$work/argo-rollouts/controller/controller.go
  sed -i 's/listenAddr *= "0\.0\.0\.0:%d"/listenAddr = "127.0.0.1:%d"/' "$file"
  if ! grep -q 'listenAddr = "127.0.0.1:%d"' "$file"; then
    echo "sandbox: argo-rollouts $argo_version's controller/controller.go has no listenAddr \"0.0.0.0:%d\" to bind to loopback; update hack/build-kube.sh" >&2
    exit 1
  fi
  cp go.mod go.sum "$work/"
  go mod edit -replace "github.com/argoproj/argo-rollouts=$work/argo-rollouts" "$work/go.mod"
  v=github.com/argoproj/argo-rollouts/utils/version
  CGO_ENABLED=0 go build -modfile "$work/go.mod" -trimpath \
    -ldflags "-s -w -X $v.version=${argo_version#v}" \
    -o "$bin/rollouts-controller.tmp" github.com/argoproj/argo-rollouts/cmd/rollouts-controller
  mv "$bin/rollouts-controller.tmp" "$bin/rollouts-controller"
fi

if mkdir -p "$argo_machine_cache" 2>/dev/null && [ ! -x "$argo_machine_cache/rollouts-controller" ]; then
  cp "$bin/rollouts-controller" "$argo_machine_cache/rollouts-controller.tmp" 2>/dev/null &&
    mv "$argo_machine_cache/rollouts-controller.tmp" "$argo_machine_cache/rollouts-controller" || true
fi

# The GitOps toolchain of the sandbox's GitOps tests (sandbox.Options.Flux, the Helm helpers):
# Flux's source-controller and kustomize-controller from tools/flux, and the Helm CLI from
# tools/helm (a module of its own: Helm v4.3 needs k8s.io v0.37, Flux v1.9.6 is built against
# v0.36). Each has a machine cache folder named with its version, as argo's. No source patch:
# every listener of both controllers (--metrics-addr, --health-addr, --storage-addr) takes its
# address from a flag, and the sandbox passes 127.0.0.1 to each.
restore_cached() { # folder binary...
  local dir=$1 b
  shift
  for b in "$@"; do
    if [ ! -x "$bin/$b" ] && [ -x "$dir/$b" ]; then
      cp "$dir/$b" "$bin/$b.tmp" && mv "$bin/$b.tmp" "$bin/$b"
    fi
  done
}
save_cached() { # folder binary...
  local dir=$1 b
  shift
  mkdir -p "$dir" 2>/dev/null || return 0
  for b in "$@"; do
    if [ -x "$bin/$b" ] && [ ! -x "$dir/$b" ]; then
      cp "$bin/$b" "$dir/$b.tmp" 2>/dev/null && mv "$dir/$b.tmp" "$dir/$b" || true
    fi
  done
}

restore_cached "$flux_machine_cache" source-controller kustomize-controller
for b in source-controller kustomize-controller; do
  [ -x "$bin/$b" ] && continue
  echo "sandbox: building Flux's $b $flux_version into $bin; the first time takes several minutes on 2 cores" >&2
  (cd "$top/tools/flux" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$bin/$b.tmp" "github.com/fluxcd/$b")
  mv "$bin/$b.tmp" "$bin/$b"
done
save_cached "$flux_machine_cache" source-controller kustomize-controller

restore_cached "$helm_machine_cache" helm
if [ ! -x "$bin/helm" ]; then
  echo "sandbox: building the Helm CLI $helm_version into $bin; the first time takes about 7 minutes on 2 cores" >&2
  hv=helm.sh/helm/v4/internal/version
  (cd "$top/tools/helm" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X $hv.version=$helm_version -X $hv.gitTreeState=clean" \
    -o "$bin/helm.tmp" helm.sh/helm/v4/cmd/helm)
  mv "$bin/helm.tmp" "$bin/helm"
fi
save_cached "$helm_machine_cache" helm
mkdir -p "$machine_cache" 2>/dev/null || exit 0
for b in "${all[@]}"; do
  if [ ! -x "$machine_cache/$b" ]; then
    cp "$bin/$b" "$machine_cache/$b.tmp" 2>/dev/null && mv "$machine_cache/$b.tmp" "$machine_cache/$b" || true
  fi
done
