# The attendance workbench. `make help` lists the targets.
# Works on a fresh machine with only Python 3.11: the venv and everything in it are made here.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= data/demo
export IPYTHONDIR := $(CURDIR)/.ipython

.DEFAULT_GOAL := help
.PHONY: help install demo test mutation lint format lab bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@# compiled bytecode halves each notebook's start-up when PYTHONDONTWRITEBYTECODE is set
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib >/dev/null 2>&1 || true
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the workbench with its dev tools

demo: $(STAMP) $(DEMO_DIR)/schools.csv ## Generate the synthetic LA (if missing) and run every report in params/
	$(BIN)/attendance-workbench demo --data $(DEMO_DIR)

# The tests run in TEST_WORKERS processes (pytest-xdist), one test file at a time each, so a
# file's module-scoped fixtures (a project's reports, a synthetic LA) are built once.
TEST_WORKERS ?= 2

test: $(STAMP) $(DEMO_DIR)/schools.csv ## Run the whole test suite (library, CLI, runner, notebooks, browser)
	$(BIN)/python -m pytest tests notebooks --ignore=tests/fixtures \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=600 \
		-n $(TEST_WORKERS) --dist loadfile

# MUTMUT_ARGS narrows the run, e.g. make mutation MUTMUT_ARGS='"attendance_lib.core.numbers*"';
# then the score is of every mutant with a result (--partial), not a check of the whole target.
mutation: $(STAMP) ## Mutation testing of the modules that decide figures and privacy (slow, not in test)
	$(BIN)/mutmut run $(MUTMUT_ARGS)
	$(BIN)/mutmut results
	$(BIN)/python tests/mutation_score.py $(if $(MUTMUT_ARGS),--partial)

# The notebooks' defaults point at the demo LA, so nbval needs it.
$(DEMO_DIR)/schools.csv: | $(STAMP)
	$(BIN)/attendance-workbench synth --out $(DEMO_DIR)

lint: $(STAMP) ## Lint and check formatting (code and notebooks)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## Format code and notebooks
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lab: $(STAMP) ## Open JupyterLab on notebooks/ with the project's Python
	$(BIN)/jupyter lab --notebook-dir=. $(if $(filter 0,$(shell id -u)),--allow-root)

bench: $(STAMP) ## Time the engine at 1x/4x/16x against naive pandas and DuckDB (about 4 min)
	$(BIN)/python benchmarks/bench_engine.py

clean: ## Remove the venv, generated data and reports
	rm -rf $(VENV) data reports/*/ reports/index.html .ipython .pytest_cache mutants
