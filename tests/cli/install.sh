#!/usr/bin/env bash
# `make install`'s content: headers under include/softiommu/, both libraries, the CLI and a
# pkg-config file, such that a program built only with pkg-config's flags links and runs.
. "$(dirname "$0")/lib/assert.sh"
BUILD=$(dirname "$SIO")
PREFIX="$TMPD/prefix"
expect_status 0 cmake --install "$BUILD" --prefix "$PREFIX"
for f in include/softiommu/mem.h include/softiommu/vtd.h include/softiommu/vtd_driver.h \
         include/softiommu/err.h bin/softiommu; do
  if [ -e "$PREFIX/$f" ]; then passes=$((passes + 1)); else echo "FAIL: $f not installed"; fails=$((fails + 1)); fi
done
libdir=$(dirname "$(find "$PREFIX" -name softiommu.pc | head -1)")/..
for f in libsoftiommu.a libsoftiommu.so; do
  if [ -e "$libdir/$f" ]; then passes=$((passes + 1)); else echo "FAIL: $f not installed"; fails=$((fails + 1)); fi
done
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# The installed .pc must not point back into the build tree.
expect_status 0 pkg-config --cflags --libs softiommu
expect_grep out "$PREFIX"
# A sanitizer build's library needs the same runtime in the program.
extra=""
if nm "$libdir/libsoftiommu.a" 2>/dev/null | grep -q __asan_report; then extra="-fsanitize=address,undefined"; fi
if nm "$libdir/libsoftiommu.a" 2>/dev/null | grep -q __tsan_; then extra="-fsanitize=thread"; fi
CC=${CC:-cc}
command -v "$CC" >/dev/null || CC=cc
# Each public header compiles on its own with strict flags.
for h in "$PREFIX"/include/softiommu/*.h; do
  printf '#include <softiommu/%s>\nint sio_header_alone_check;\n' "$(basename "$h")" >"$TMPD/h.c"
  expect_status 0 $CC -std=c11 -Wall -Wextra -Werror -pedantic -c $(pkg-config --cflags softiommu) "$TMPD/h.c" -o "$TMPD/h.o"
done
expect_status 0 $CC -std=c11 -Wall -Wextra -Werror $extra "$SRC/examples/pmem_hello.c" -o "$TMPD/hello" $(pkg-config --cflags --libs softiommu)
ASAN_OPTIONS=detect_leaks=0 expect_status 0 "$TMPD/hello"
expect_grep out 'hello, DMA via pmem \(1 page\), device 0000:00:02.0 sid 0x0010'
expect_status 0 "$PREFIX/bin/softiommu" --version
finish
