#!/usr/bin/env bash
# Installs the Debian packages the sandbox and the end-to-end tests run, if any is missing:
# Prometheus, Flask and prometheus_client for Debian's python3, gunicorn, tmux, openssl, the
# OpenSSH client (the tests of `serve --ssh`) and git (the sandbox's Git server, for Flux).
set -euo pipefail
packages=(prometheus python3-flask python3-prometheus-client gunicorn tmux openssl openssh-client git)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "deps: missing Debian packages: ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
echo "deps: installing ${missing[*]}" >&2
log=$(mktemp)
if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  echo "deps: could not install ${missing[*]}: $(grep -E '^(E|W):' "$log" | head -1 || tail -1 "$log"); install them by hand (apt-get install -y ${missing[*]}) and retry" >&2
  rm -f "$log"
  exit 1
fi
rm -f "$log"
