# Set-up and entry points. `make demo` and `make test` create or refresh the virtual environment in .venv
# from requirements.txt pinned by constraints.txt, so a machine with Python 3.11, make and git is enough.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench lock clean

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required: set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python include/scripts/demo.py $(DEMO_ARGS)

# Benchmarks against their baselines; writes BENCHMARKS.md and bench/results.json. A full run took about
# 8 minutes on a shared 2-core machine, BENCH_ARGS="--quick --repeat 1" about 1 minute.
bench: $(STAMP)
	$(BIN)/python bench/run_bench.py $(BENCH_ARGS)

test: $(STAMP)
	bash include/scripts/ensure_chromium.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Re-resolve requirements.txt without the pins and write the result to constraints.txt.
lock:
	rm -rf .work/lock-venv
	$(PYTHON) -m venv .work/lock-venv
	.work/lock-venv/bin/pip install --quiet -r requirements.txt
	{ sed -n '1,3p' constraints.txt; .work/lock-venv/bin/pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) .work
