# Makefile: the thin front door. `make demo` and `make test` do everything on a fresh Debian machine.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
# Seconds each fuzz harness runs inside `make test`.
FUZZ_SECONDS ?= 60

.PHONY: all deps build build-asan build-fuzz test test-unit test-asan test-fuzz demo bench \
        format format-check clean

all: build

deps:
	./scripts/deps

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSC_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)

build-fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSC_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_all

# Every test: the normal build, the same suite under ASan+UBSan, then each fuzz harness for a bounded
# time, and the formatting of the tree.
test: test-unit test-asan test-fuzz format-check

test-unit: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan: build-asan
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

test-fuzz: build-fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --test-dir $(FUZZ_BUILD) --output-on-failure -L fuzz

demo: build
	./$(BUILD)/shotclock demo

bench: build
	./bench/run $(BUILD)

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run -Werror $(FORMAT_FILES) && echo "format-check: tree is clang-formatted"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
