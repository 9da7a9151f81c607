#!/usr/bin/env bash
# Installs what `make test` needs beyond Go and Node.js, only when it is
# missing, so it is safe to run again and again. All from Debian's packages:
#   wabt                                   wat2wasm (WAT plugins)
#   clang lld wasi-libc libclang-rt-dev-wasm32 libc++-dev-wasm32   C and C++ plugins
#   rustc cargo libstd-rust-dev-wasm32     Rust plugins (wasm32-unknown-unknown)
#   nginx                                  the reverse-proxy (wss://) test
#   chromium                               the browser tests (driven with chromedp)
# AssemblyScript comes from npm, pinned in each plugin's package-lock.json
# (its Makefile runs `npm ci`).
set -euo pipefail

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in wabt clang lld wasi-libc libclang-rt-dev-wasm32 libc++-dev-wasm32 rustc cargo libstd-rust-dev-wasm32 nginx chromium; do
  have_pkg "$pkg" || need+=("$pkg")
done

if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]} with apt-get"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "deps: $tool is missing (Node.js 20 is expected on the machine)" >&2; exit 1; }
done
