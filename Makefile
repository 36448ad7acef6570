# Two entry points for a fresh Debian machine with python3 and make:
#   make demo   set up .venv, run the main job on embedded defaults, print where results are
#   make test   same set-up (plus Icarus Verilog, the OSU018 cells and berkeley-abc when missing
#               and allowed), run the whole suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.test-extras-stamp
# The test suite also exercises the RTL flow, co-simulation, Dask and the study extras.
TEST_EXTRAS := dev,rtl,sim,dist,study

.PHONY: demo test lint venv icarus liberty-tools chromium clean

demo: $(STAMP)
	$(VENV)/bin/hwsim demo --out results

test: $(STAMP) $(TEST_STAMP) icarus liberty-tools chromium
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

venv: $(STAMP)

# Debian's python3 lacks ensurepip until python3-venv is installed; add it when we may.
$(STAMP): pyproject.toml setup.py
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing python3-venv"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; \
	    rm -rf $(VENV); $(PYTHON) -m venv $(VENV); \
	  else echo "error: '$(PYTHON) -m venv' failed; install python3-venv" >&2; exit 1; fi; }
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[$(TEST_EXTRAS)]'
	@touch $@

# Icarus Verilog serves the co-simulation tests; install it from Debian when missing and root.
icarus:
	@command -v iverilog >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing iverilog from Debian packages"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iverilog >/dev/null) \
	      || echo "note: could not install iverilog; co-simulation tests need it"; \
	  else echo "note: iverilog missing and apt-get not usable; co-simulation tests need it"; fi; }

# The liberty and toggle-energy flows (hwsim.rtl.flows) map onto the OSU018 standard cells with
# berkeley-abc; install both from Debian when missing and root.
OSU018_LIB := /usr/share/qflow/tech/osu018/osu018_stdcells.lib
liberty-tools:
	@{ command -v berkeley-abc >/dev/null && [ -f $(OSU018_LIB) ]; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing qflow-tech-osu018 and berkeley-abc from Debian packages"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      qflow-tech-osu018 berkeley-abc >/dev/null) \
	      || echo "note: could not install qflow-tech-osu018/berkeley-abc; the liberty-flow tests need them"; \
	  else echo "note: OSU018 cells or berkeley-abc missing and apt-get not usable; the liberty-flow tests need them"; fi; }

# Headless Chromium renders the HTML study report in its test; Debian package, when root.
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium from Debian packages"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "note: could not install chromium; the report rendering test needs it"; \
	  else echo "note: chromium missing and apt-get not usable; the report rendering test needs it"; fi; }

clean:
	rm -rf $(VENV) results build *.egg-info .pytest_cache .ruff_cache .hypothesis
