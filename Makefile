# The README's commands. Every target is safe to re-run: setup only does
# work when something it depends on changed.

PYTHON ?= python3.11
GO ?= $(shell command -v go || echo /usr/local/go/bin/go)
VENV := .venv
BIN := $(VENV)/bin
# Installed pip packages are stamped: reinstall only when pyproject.toml changes.
STAMP := $(VENV)/.installed
# Delve 1.27.x reads cores of Go 1.25-1.27; keep in step with tui/delve.py.
DLV_VERSION := v1.27.2

.PHONY: setup demo test bench clean

setup: $(STAMP)
	@if $(BIN)/dlv version 2>/dev/null | grep -q 'Version: $(DLV_VERSION:v%=%)$$'; then \
		echo "dlv $(DLV_VERSION) already in $(BIN)"; \
	else \
		echo "go install dlv@$(DLV_VERSION) into $(BIN)"; \
		GOBIN=$(CURDIR)/$(BIN) GOTOOLCHAIN=local $(GO) install github.com/go-delve/delve/cmd/dlv@$(DLV_VERSION); \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# Builds tests/fixtures/goroutine_panic and crashes it (skipped when the core
# is newer than the source), then opens the core in the TUI.
demo: setup
	$(BIN)/python -m tui.corerun tests/fixtures/goroutine_panic build/demo
	$(BIN)/gocore-tui build/demo/main build/demo/core

test: setup
	$(BIN)/python -m pytest -q

# gocore-tui against raw dlv on cores with 6, 1k, 10k and 100k goroutines
# (built and crashed once, cached under build/bench/); prints the table.
bench: setup
	$(BIN)/python bench/run.py

# Keeps .venv (and the dlv in it): `rm -rf .venv` for a full reset.
clean:
	rm -rf build .pytest_cache .hypothesis *.egg-info
	find tui tests -name __pycache__ -type d -prune -exec rm -rf {} +
