# The README's commands. Every target is safe to re-run: setup only does
# work when something it depends on changed.

PYTHON ?= python3.11
GO ?= $(shell command -v go || echo /usr/local/go/bin/go)
VENV := .venv
BIN := $(VENV)/bin
# Installed pip packages are stamped: reinstall only when pyproject.toml
# changes. The app's own (make demo) and the test tools' (make test) apart:
# a demo installs nothing it does not run.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# Delve 1.27.x reads cores of Go 1.25-1.27; keep in step with tui/delve.py.
DLV_VERSION := v1.27.2
# What `make test` installs besides the set-up (Debian packages, only when one
# is missing): the second leg's Debian 12 Delve 1.20.2 and Go 1.19, used by
# path (tests/toolchains.py); golang-1.19-go rather than golang-go: the same
# Go, without the /usr/bin/go link that could shadow the machine's newer
# default go. Chromium loads `gocore-tui serve` (tests/test_serve.py); tmux is
# the terminal the installed program runs in (tests/test_e2e_tmux.py); gdb is
# the other side of the comparison and dumps the live-process fixture (gcore);
# script(1) (bsdutils) holds a terminal in tests/test_signals.py.
# A test never skips for lack of one of these: it fails, naming the package.
TEST_PACKAGES := golang-1.19-go delve chromium tmux gdb bsdutils
DEBIAN_GO := /usr/lib/go-1.19/bin/go
DEBIAN_DLV := /usr/bin/dlv
TEST_PROGRAMS := $(DEBIAN_GO) $(DEBIAN_DLV) /usr/bin/chromium /usr/bin/tmux /usr/bin/gdb /usr/bin/script

.PHONY: setup setup-test test-tools demo test test-latest test-debian bench clean

setup: $(STAMP)
	@if $(BIN)/dlv version 2>/dev/null | grep -q 'Version: $(DLV_VERSION:v%=%)$$'; then \
		echo "dlv $(DLV_VERSION) already in $(BIN)"; \
	else \
		echo "go install dlv@$(DLV_VERSION) into $(BIN)"; \
		GOBIN=$(CURDIR)/$(BIN) GOTOOLCHAIN=local $(GO) install github.com/go-delve/delve/cmd/dlv@$(DLV_VERSION); \
	fi

# Quiet when all are there; apt-get update only when the package lists are stale.
test-tools:
	@missing=""; for program in $(TEST_PROGRAMS); do [ -x $$program ] || missing="$$missing $$program"; done; \
	if [ -n "$$missing" ]; then \
		if ! command -v apt-get >/dev/null; then \
			echo "no apt-get: make test needs$$missing (Debian packages: $(TEST_PACKAGES))" >&2; exit 1; \
		fi; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		echo "apt-get install $(TEST_PACKAGES) (for make test; missing:$$missing)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		$$SUDO apt-get install -y -qq $(TEST_PACKAGES) >/dev/null || \
			{ $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(TEST_PACKAGES) >/dev/null; } || exit 1; \
	fi

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $(STAMP)

# The test tools (pytest, the snapshot plugin, hypothesis, import-linter).
setup-test: setup $(TEST_STAMP)

$(TEST_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(TEST_STAMP)

# Builds tests/fixtures/demo_checkout and crashes it (skipped when the core
# is newer than the source), then opens the core on the GDB-vs-Delve
# comparison: its faulting frame's values and its parked goroutines are where
# Delve reads what gdb cannot (escape: the main screen).
demo: setup
	$(BIN)/python -m tui.cli.corerun tests/fixtures/demo_checkout build/demo-checkout
	$(BIN)/gocore-tui build/demo-checkout/main build/demo-checkout/core --compare

# Leg 1, the pinned Delve in .venv/bin with the machine's Go: the whole suite.
# Leg 2, Debian 12's dlv 1.20.2 and Go 1.19: every test that opens a core
# (the toolchain-independent ones ran in leg 1). Both legs run even when the
# first fails; either failing fails the target.
# -rs: every skip is printed with its reason in the summary.
LEG1 := GOCORE_TOOLCHAIN=latest $(BIN)/python -m pytest -q -rs
LEG2 := GOCORE_TOOLCHAIN=debian $(BIN)/python -m pytest -q -rs

# The test tools are only needed here: make demo stays light.
test: setup-test test-tools
	@status=0; \
	echo "== leg 1: dlv $(DLV_VERSION), $$($(GO) version)"; \
	$(LEG1) || status=1; \
	echo "== leg 2: Debian's dlv $$($(DEBIAN_DLV) version | sed -n 's/^Version: //p'), $$($(DEBIAN_GO) version)"; \
	$(LEG2) || status=1; \
	exit $$status

test-latest: setup-test test-tools
	$(LEG1)

test-debian: setup-test test-tools
	$(LEG2)

# gocore-tui against raw dlv on cores with 6, 1k, 10k and 100k goroutines
# (built and crashed once, cached under build/bench/); prints the table,
# then the seed core's first screen from launch against raw dlv.
# SIZES=1000,100000,1000000 chooses the crowd sizes (a 1M core takes 2.6 GB).
# Then the heap histogram against goref (bench/heap.py: cores of 0.12, 0.37
# and 1.2 GB live, HEAP_SCALES=0.1,0.3,1; goref built from a checkout of its
# snapshot at build/goref-src, never committed).
bench: setup-test
	SIZES=$(SIZES) $(BIN)/python bench/run.py
	$(BIN)/python bench/first_screen.py
	$(BIN)/python bench/heap.py $(if $(HEAP_SCALES),--scales $(HEAP_SCALES))

# Keeps .venv (and the dlv in it): `rm -rf .venv` for a full reset.
clean:
	rm -rf build .pytest_cache .hypothesis *.egg-info
	find tui tests -name __pycache__ -type d -prune -exec rm -rf {} +
