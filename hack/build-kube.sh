#!/usr/bin/env bash
# Builds the sandbox's real control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler) and kwok once, into a git-ignored cache. Later runs find them and return at once.
# Usage: hack/build-kube.sh [BIN_DIR]   (default: .cache/bin)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$top/.cache/bin}
kube_version=v1.36.3
kwok_version=v0.8.0
mkdir -p "$bin"
bin=$(cd "$bin" && pwd) # go install wants an absolute GOBIN
# A copy kept per machine outside any checkout, so a fresh clone (CI) does not rebuild.
machine_cache=${PYROLL_MACHINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubectl-pyroll/kube-$kube_version-kwok-$kwok_version}
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

mkdir -p "$machine_cache" 2>/dev/null || exit 0
for b in "${all[@]}"; do
  if [ ! -x "$machine_cache/$b" ]; then
    cp "$bin/$b" "$machine_cache/$b.tmp" 2>/dev/null && mv "$machine_cache/$b.tmp" "$machine_cache/$b" || true
  fi
done
