#!/usr/bin/env bash
# Installs what `make test` needs beyond Go, only when it is missing, so it is
# safe to run again and again. Debian packages: wabt (wat2wasm, to rebuild the
# WAT test plugins).
set -euo pipefail

need_apt=()
command -v wat2wasm >/dev/null 2>&1 || need_apt+=(wabt)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "deps: installing ${need_apt[*]} with apt-get"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi
