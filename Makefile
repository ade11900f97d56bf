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
# The second leg of `make test`: Debian 12's Delve 1.20.2 and Go 1.19, used by
# path (tests/toolchains.py). golang-1.19-go rather than golang-go: the same Go,
# without the /usr/bin/go link that could shadow the machine's newer default go.
# And Debian's Chromium, which loads `gocore-tui serve` in tests/test_serve.py.
DEBIAN_PACKAGES := golang-1.19-go delve chromium
DEBIAN_GO := /usr/lib/go-1.19/bin/go
DEBIAN_DLV := /usr/bin/dlv
CHROMIUM := /usr/bin/chromium

.PHONY: setup setup-test debian-toolchain demo test test-latest test-debian bench clean

setup: $(STAMP)
	@if $(BIN)/dlv version 2>/dev/null | grep -q 'Version: $(DLV_VERSION:v%=%)$$'; then \
		echo "dlv $(DLV_VERSION) already in $(BIN)"; \
	else \
		echo "go install dlv@$(DLV_VERSION) into $(BIN)"; \
		GOBIN=$(CURDIR)/$(BIN) GOTOOLCHAIN=local $(GO) install github.com/go-delve/delve/cmd/dlv@$(DLV_VERSION); \
	fi

# Quiet when both are there; apt-get update only when the package lists are stale.
debian-toolchain:
	@if [ ! -x $(DEBIAN_GO) ] || [ ! -x $(DEBIAN_DLV) ] || [ ! -x $(CHROMIUM) ]; then \
		if ! command -v apt-get >/dev/null; then \
			echo "no apt-get: install Go 1.19 at $(DEBIAN_GO), Delve 1.20.2 at $(DEBIAN_DLV) and Chromium at $(CHROMIUM) for make test" >&2; exit 1; \
		fi; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		echo "apt-get install $(DEBIAN_PACKAGES) (Debian's Go 1.19, Delve 1.20.2 and Chromium, for make test)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		$$SUDO apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null || \
			{ $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null; } || exit 1; \
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
LEG1 := GOCORE_TOOLCHAIN=latest $(BIN)/python -m pytest -q
LEG2 := GOCORE_TOOLCHAIN=debian $(BIN)/python -m pytest -q

# The second leg's toolchain is only needed here: make demo stays light.
test: setup-test debian-toolchain
	@status=0; \
	echo "== leg 1: dlv $(DLV_VERSION), $$($(GO) version)"; \
	$(LEG1) || status=1; \
	echo "== leg 2: Debian's dlv $$($(DEBIAN_DLV) version | sed -n 's/^Version: //p'), $$($(DEBIAN_GO) version)"; \
	$(LEG2) || status=1; \
	exit $$status

test-latest: setup-test
	$(LEG1)

test-debian: setup-test debian-toolchain
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
