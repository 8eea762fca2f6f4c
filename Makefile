# Atelier — the two entry points of the README's Quick start, and their parts.
#   make demo   install what is missing, build (Release), fetch the default model, run
#               `atelier cutout` on two sample photos into ./demo-out/
#   make test   the same set-up, then the whole test suite through ctest, then the
#               sanitizer build (build-san: clang, ASan + UBSan + libFuzzer coverage) with
#               its unit, CLI and fuzz-smoke tests (not the `model` label)
#   make fuzz   every libFuzzer harness for FUZZ_SECONDS (default 60), FUZZ_JOBS at a time

BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
ATELIER := $(BUILD_DIR)/bin/atelier
SAMPLES := /usr/lib/python3/dist-packages/skimage/data
SAN_BUILD_DIR ?= build-san
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
# Every sanitizer report is fatal (the code is also built with -fno-sanitize-recover=all);
# leak suppressions (fuzz/lsan.supp) name third-party code only, with a reason each.
export ASAN_OPTIONS ?= halt_on_error=1:abort_on_error=0:detect_leaks=1
export UBSAN_OPTIONS ?= halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS ?= suppressions=$(CURDIR)/fuzz/lsan.supp:print_suppressions=0
export ASAN_SYMBOLIZER_PATH ?= /usr/lib/llvm-14/bin/llvm-symbolizer
# ccache hits across checkouts in other folders (CI clones anew each run): paths below the
# checkout are hashed relative to it, and the build folder's own path is not hashed.
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= 1

.PHONY: all deps build model demo test san-build san-test fuzz bench parity crop-bench crop-compare serve-bench renders clean

all: build

deps:
	./scripts/install-deps

build: deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build $(BUILD_DIR) -j $(JOBS)

model: build
	$(ATELIER) models fetch isnet

demo: model
	mkdir -p demo-out
	$(ATELIER) cutout $(SAMPLES)/astronaut.png $(SAMPLES)/chelsea.png -o demo-out/

test: model
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)
	$(MAKE) san-test

# The hardening build: clang 14, -fsanitize=address,undefined (fatal) and libFuzzer's
# coverage on everything, the harnesses of fuzz/ linked with libFuzzer; no benchmarks.
san-build: deps
	cmake -S . -B $(SAN_BUILD_DIR) -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DATELIER_SANITIZE=ON -DATELIER_FUZZ=ON \
	  -DATELIER_BUILD_BENCH=OFF
	cmake --build $(SAN_BUILD_DIR) -j $(JOBS)

# Unit and CLI tests under the sanitizers, and a 10 s smoke run of each fuzz harness.
# Left out, as model-heavy: the `model` label, and the cutout and crop CLI suites, whose
# cases run the segmentation model (30-110 s each under ASan; they run in the main build).
# ASan's redzones make frames several times larger: the GBNF matcher's 2000-level nesting
# limit needs more than the default 8 MiB stack, hence ulimit -s.
SAN_TEST_EXCLUDE ?= ^(CutoutCli|CropCli)\.
san-test: san-build
	ulimit -s 65536 && ctest --test-dir $(SAN_BUILD_DIR) --output-on-failure -j $(JOBS) -LE model \
	  -E '$(SAN_TEST_EXCLUDE)'

fuzz: san-build
	BUILD_DIR=$(SAN_BUILD_DIR) FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) ./fuzz/run-all.sh

bench: model
	./bench/cutout_bench.sh

parity: model
	./bench/parity.sh

crop-bench: model
	./bench/crop_bench.sh

crop-compare: model
	./bench/crop_compare.sh

serve-bench: model
	./bench/serve_bench.sh

# The README's previews of the example designs.
renders: build
	for f in examples/designs/*.json; do \
	  n=$$(basename $$f .json); s=0.45; \
	  case $$n in instagram-story) s=0.35;; a4-event-poster) s=0.7;; esac; \
	  $(ATELIER) render $$f -o docs/renders/$$n.jpg --scale $$s -q || exit 1; \
	done
	# Format changes by the deterministic relayout (no language model).
	mkdir -p $(BUILD_DIR)/renders
	for c in instagram-story:youtube-thumbnail:0.35 linkedin-post:instagram-story:0.2; do \
	  n=$${c%%:*}; r=$${c#*:}; to=$${r%%:*}; s=$${r#*:}; \
	  env -u ATELIER_LLM $(ATELIER) edit examples/designs/$$n.json "" --to $$to -q \
	    -o $(BUILD_DIR)/renders/$$n-as-$$to.json || exit 1; \
	  $(ATELIER) render $(BUILD_DIR)/renders/$$n-as-$$to.json -o docs/renders/$$n-as-$$to.jpg --scale $$s -q || exit 1; \
	done

clean:
	rm -rf $(BUILD_DIR) $(SAN_BUILD_DIR) demo-out
