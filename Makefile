SHELL := /bin/bash
# The two commands a new user needs: `make reports` (the main job) and `make test` (the whole test suite).
# Both create .venv and install the pinned environment when it is missing or out of date.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: reports test docs lock sync-check clean-venv

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade -c requirements/constraints.txt pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[dev]"
	touch $(STAMP)

## Main job: run every papermill template in pipelines/ on the embedded default data -> reports/<pipeline>/<run_id>/
reports: $(STAMP)
	$(BIN)/cryptoml run-all $(ARGS)

## Whole test suite: notebooks (nbdev, honouring tst_flags) and tests/ in one pytest run, after the sync check
test: $(STAMP) sync-check
	$(BIN)/python -m pytest $(ARGS)

## Fails when nbdev-export or nbdev-clean would change a tracked file (package out of sync, notebook not clean)
sync-check: $(STAMP)
	@before=$$(git ls-files -z -- cryptoml nbs | xargs -0 sha1sum); \
	$(BIN)/nbdev-export && $(BIN)/nbdev-clean; \
	after=$$(git ls-files -z -- cryptoml nbs | xargs -0 sha1sum); \
	if [ "$$before" != "$$after" ]; then \
	  echo "nbdev-export/nbdev-clean changed tracked files (now fixed in the work tree; commit them):"; \
	  diff <(echo "$$before") <(echo "$$after") | grep '^>' ; exit 1; fi; \
	echo "sync-check: package and notebooks are in sync and clean"

## Documentation site, offline, into _docs/: nbdev-proc-nbs (notebook pages, cells not executed), the API reference
## from the package (smalldocs api), then the pure-Python renderer smalldocs
## (with Quarto installed, `nbdev-docs` builds the same site)
docs: $(STAMP)
	$(BIN)/nbdev-proc-nbs
	$(BIN)/smalldocs api build --dir _proc
	$(BIN)/smalldocs render --quiet _proc
	rm -rf _docs && mv _proc/_docs _docs
	@echo "docs: $$(ls _docs/*.html | wc -l) pages in _docs/ (open _docs/index.html)"

## Re-resolve the environment and rewrite the constraints file (then run `make test`)
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet --upgrade pip
	.lockenv/bin/python -m pip install --quiet -e ".[dev]"
	.lockenv/bin/python -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu/torch==\1/' > requirements/constraints.txt
	.lockenv/bin/python -m pip --version | awk '{print "pip=="$$2}' >> requirements/constraints.txt
	rm -rf .lockenv

clean-venv:
	rm -rf $(VENV)
