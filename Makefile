# softiommu: a thin wrapper over CMake. See README.md.
#   make          build build/libsoftiommu.a, build/libsoftiommu.so and build/softiommu
#   make test     install missing packages, build with ASan+UBSan and with TSan, run every test
#   make demo     build and run `softiommu demo`
#   make bench    build (optimised) and run `softiommu bench`
#   make fuzz     build the libFuzzer targets with clang (build-fuzz/fuzz/)
#   make install PREFIX=/some/dir
#   make format   clang-format -i every source file
PREFIX ?= /usr/local
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
SOURCES = $(shell find include src tools tests bench fuzz examples -name '*.[ch]' 2>/dev/null)

.PHONY: all deps test demo bench fuzz install format check-format clean clang

all: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS) >/dev/null
	cmake --build build -j $(JOBS)

deps:
	@scripts/deps.sh

test: deps
	scripts/deps.sh clang
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSIO_SANITIZE=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)
	CC=clang cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIO_TSAN=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -L tsan

demo: all
	./build/softiommu demo

bench: deps
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DSIO_TESTS=OFF $(CMAKE_FLAGS) >/dev/null
	cmake --build build-bench -j $(JOBS) --target softiommu
	./build-bench/softiommu bench

fuzz: deps
	scripts/deps.sh clang
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIO_FUZZ=ON -DSIO_SANITIZE=ON -DSIO_TESTS=OFF >/dev/null
	cmake --build build-fuzz -j $(JOBS)
	@echo "fuzzers in build-fuzz/fuzz/: run e.g. build-fuzz/fuzz/fuzz_pci -max_total_time=60 fuzz/corpus/pci"

clang: deps
	scripts/deps.sh clang
	CC=clang cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	cmake --build build-clang -j $(JOBS)

install: all
	cmake --install build --prefix $(PREFIX)

format:
	clang-format -i $(SOURCES)

check-format:
	scripts/deps.sh clang-format
	clang-format --dry-run --Werror $(SOURCES)

clean:
	rm -rf build build-asan build-tsan build-bench build-fuzz build-clang
