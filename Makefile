# inferdeck: `make demo` opens the demo, `make test` runs every check. Each sets itself up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint unit bench screenshots system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# the deprecated `pynvml` shim that earlier versions depended on: an import hook in every start
	$(BIN)/python -m pip uninstall --quiet --yes pynvml 2>/dev/null || true
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/inferdeck demo

system-deps:
	scripts/system-deps

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP) system-deps lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

# `make bench MEMORY_MINUTES=5` for a shorter memory run (the figure asked for is an hour).
MEMORY_MINUTES ?= 60

# the benchmarks' own extras: plotext (through textual-plotext), whose chart cost
# chart_cost.py sets beside ours, and glances and btop, the anchors idle_cpu.py measures
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	scripts/system-deps glances btop
	@echo "machine: $$(nproc) cores, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $$(cut -d' ' -f1 /proc/loadavg)"
	$(BIN)/python benchmarks/refresh_cost.py
	$(BIN)/python benchmarks/chart_cost.py
	$(BIN)/python benchmarks/collect_32.py
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/idle_cpu.py
	$(BIN)/python benchmarks/idle_breakdown.py
	$(BIN)/python benchmarks/memory.py --minutes $(MEMORY_MINUTES)
	$(BIN)/python benchmarks/traffic_apply.py
	$(BIN)/python benchmarks/recording_size.py

screenshots: $(STAMP)
	$(BIN)/inferdeck screenshots

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
