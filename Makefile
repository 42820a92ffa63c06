# The README's two commands on a fresh machine:
#   make demo   create .venv with the pinned stack, install the project with every extra, run the demo suite
#   make test   the tests, in that .venv (what .ci/run calls)
# Every pip call runs under .ci/constraints.txt (torch==2.13.0: an unpinned torch pulls a multi-GB CUDA build).

PYTHON    ?= python3
VENV      ?= .venv
EXTRAS    ?= all,dev,bench
DEMO_ARGS ?= --suite demo --models all --langs low,high
PYTEST_ARGS ?=
BIN       := $(VENV)/bin

export PIP_CONSTRAINT := $(CURDIR)/.ci/constraints.txt
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1

.PHONY: demo test setup lint clean-venv

demo: $(VENV)/.installed
	$(BIN)/harness run $(DEMO_ARGS)

# pytest's exit code 5 (no tests collected) is a failure, not a pass
test: $(VENV)/.installed
	@status=0; $(BIN)/python -m pytest -q $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests (exit code 5)" >&2; exit 1; fi; \
	exit $$status

setup: $(VENV)/.installed

lint: $(VENV)/.installed
	$(BIN)/ruff check .

# re-installed when the dependencies or the pins change
$(VENV)/.installed: pyproject.toml .ci/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[$(EXTRAS)]"
	touch $@

clean-venv:
	rm -rf $(VENV)
