# Top-level entry points. Each one first installs the missing Debian packages
# (scripts/install-deps, as root), then builds with CMake.
#   make demo    build and reproduce the seed experiment (figures in out/)
#   make check   build and run every test, also under ASan + UBSan
#   make bench   sparsetune against PyTorch, side by side
BUILD := build
SANITIZE_BUILD := build-sanitize
JOBS ?= 2

.PHONY: all build demo check test test-sanitize bench clean

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

bench:
	scripts/install-deps --bench
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)
	$(BUILD)/bench_step
	/usr/bin/python3 bench/bench_train.py --bin $(BUILD)/sparsetune
	/usr/bin/python3 bench/bench_sweep.py --bin $(BUILD)/sparsetune
	/usr/bin/python3 bench/bench_widths.py --bin $(BUILD)/sparsetune

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD)
