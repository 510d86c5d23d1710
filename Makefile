# archspec: `make demo` and `make test` set everything up on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := $(VENV)/node/.installed
PYTEST_ARGS ?=
# a pip index with CPU-only torch wheels (PyTorch's install page names it); empty: pip's default index
TORCH_INDEX ?=

.PHONY: setup test test-fast test-thorough demo lint format schema docs bench clean

setup: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(if $(TORCH_INDEX),$(PY) -m pip install -q --index-url '$(TORCH_INDEX)' 'torch>=2.4' 'torchvision>=0.19')
	$(PY) -m pip install -q -e '.[all,dev]'
	@command -v dot >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq graphviz) >/dev/null 2>&1 \
		|| echo "warning: could not install Graphviz's 'dot'; archspec diagram will write .dot files only"; }
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq chromium chromium-driver) \
		>/dev/null 2>&1 || echo "note: could not install chromium; the headless-browser test of archspec serve will skip"; }
	touch $(STAMP)

# ajv-cli and the YAML language server check the JSON Schema (tests/test_schema.py); without npm those tests skip
$(NODE_STAMP): Makefile | $(STAMP)
	@if command -v npm >/dev/null 2>&1; then \
		npm install --silent --no-audit --no-fund --prefix $(VENV)/node \
			ajv-cli@5 yaml-language-server@1 vscode-languageserver-textdocument@1 && touch $(NODE_STAMP); \
	else echo "note: npm not found; the ajv and YAML language server checks of the JSON Schema will be skipped"; fi

test: setup
	$(PY) -m ruff check archspec tests bench
	$(PY) -m ruff format --check archspec tests bench
	$(PY) -m mypy archspec
	$(PY) -m pytest -q -n 2 --dist worksteal $(PYTEST_ARGS)

# every property test with ten times the examples (tests/hypothesis_profiles.py): before a release
test-thorough: setup
	ARCHSPEC_HYPOTHESIS_PROFILE=thorough $(PY) -m pytest -q -n 2 --dist worksteal $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -q -n 2 -m "not slow" $(PYTEST_ARGS)

demo: setup
	$(VENV)/bin/archspec validate specs/*.yaml
	$(VENV)/bin/archspec summary specs/resnet18.yaml
	-$(VENV)/bin/archspec diagram specs/resnet18.yaml -o out/resnet18.svg
	$(VENV)/bin/archspec train specs/lenet5.yaml --epochs 5 --out out/lenet5-demo

lint: setup
	$(PY) -m ruff check archspec tests bench
	$(PY) -m ruff format --check archspec tests bench
	$(PY) -m mypy archspec

format: setup
	$(PY) -m ruff format archspec tests bench
	$(PY) -m ruff check --fix archspec tests bench

schema: setup
	$(VENV)/bin/archspec schema -o archspec/frontend/archspec.schema.json  # schemas/ links to it

docs: setup
	$(VENV)/bin/archspec docs specs -o docs/models

bench: setup
	$(PY) bench/validate.py
	$(PY) bench/diagram.py
	$(PY) bench/forward.py
	$(PY) bench/train.py
	$(PY) bench/lsp.py
	$(PY) bench/sweep.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .mypy_cache .hypothesis
