# Top-level entry points. Each one first installs the missing Debian packages
# (scripts/install-deps, as root), then builds with CMake.
#   make demo    build and reproduce the seed experiment (figures in out/)
#   make check   build and run every test, also under ASan + UBSan, and each
#                fuzzer for 30 s
#   make fuzz    the libFuzzer targets for FUZZ_SECONDS each (default 600)
#   make bench   sparsetune against PyTorch, side by side
BUILD := build
SANITIZE_BUILD := build-sanitize
FUZZ_BUILD := build-fuzz
FUZZ_SECONDS ?= 600
JOBS ?= 2

.PHONY: all build demo check test test-sanitize fuzz fuzz-build bench clean

all: build

build:
	scripts/install-deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/sparsetune reproduce --force --out out
	@echo
	@echo "each run directory holds figure.png, metrics.csv, summary.json, config.ini and the models"

check:
	scripts/install-deps --check
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DST_WERROR=ON
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cmake -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=Sanitize -DST_WERROR=ON
	cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	cd $(SANITIZE_BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory fuzz-build
	scripts/run-fuzz $(FUZZ_BUILD) 30

fuzz-build:
	scripts/install-deps --fuzz
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Release -DST_FUZZ=ON -DST_WERROR=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

fuzz: fuzz-build
	scripts/run-fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench:
	scripts/install-deps --bench
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)
	$(BUILD)/bench_step
	/usr/bin/python3 bench/bench_train.py --bin $(BUILD)/sparsetune
	/usr/bin/python3 bench/bench_sweep.py --bin $(BUILD)/sparsetune
	/usr/bin/python3 bench/bench_widths.py --bin $(BUILD)/sparsetune
	/usr/bin/python3 bench/bench_gpt.py --bin $(BUILD)/sparsetune
	/usr/bin/python3 bench/bench_scale.py --bin $(BUILD)/sparsetune

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) $(FUZZ_BUILD)
