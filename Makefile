# Atelier — the two entry points of the README's Quick start, and their parts.
#   make demo   install what is missing, build (Release), fetch the default model, run
#               `atelier cutout` on two sample photos into ./demo-out/
#   make test   the same set-up, then the whole test suite through ctest

BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
ATELIER := $(BUILD_DIR)/bin/atelier
SAMPLES := /usr/lib/python3/dist-packages/skimage/data

.PHONY: all deps build model demo test bench parity crop-bench crop-compare renders clean

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

bench: model
	./bench/cutout_bench.sh

parity: model
	./bench/parity.sh

crop-bench: model
	./bench/crop_bench.sh

crop-compare: model
	./bench/crop_compare.sh

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
	rm -rf $(BUILD_DIR) demo-out
