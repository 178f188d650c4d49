#!/usr/bin/env bash
# Install what building and testing softiommu needs, only when missing.
# Usage: scripts/deps.sh [extra-tool...]   (extra tools: clang, clang-format)
set -euo pipefail
need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
have_cmd cmake || need+=(cmake)
have_cmd make || need+=(make)
have_cmd cc || need+=(gcc)
have_cmd pkg-config || need+=(pkg-config)
have_cmd python3 || need+=(python3) # CLI scenario tests check JSON output with it
have_pkg libcmocka-dev || need+=(libcmocka-dev)
have_pkg libjson-c-dev || need+=(libjson-c-dev)
for extra in "$@"; do
  case "$extra" in
    clang) have_cmd clang || need+=(clang)
           # libFuzzer and the TSan runtime ship in clang's runtime package.
           compgen -G '/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a' >/dev/null ||
             need+=(libclang-rt-14-dev) ;;
    clang-format) have_cmd clang-format || need+=(clang-format) ;;
    *) echo "deps.sh: unknown extra '$extra'" >&2; exit 2 ;;
  esac
done
if [ ${#need[@]} -gt 0 ]; then
  echo "deps.sh: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
