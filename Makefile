# notesynth: `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test bench clean

setup: $(STAMP)

# torch is pinned and installed first: a plain `torch` requirement would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# exit code 1 only means some notes were held back by the privacy check: still a good demo
demo: setup
	$(VENV)/bin/notesynth synth data/sample_notes out/demo --seed 0; code=$$?; [ $$code -le 1 ] || exit $$code
	@echo "synthetic notes in out/demo/ (manifest: out/demo/manifest.jsonl)"

test: setup
	$(PY) -m pytest -q tests; code=$$?; if [ $$code -eq 5 ]; then echo "pytest ran no test" >&2; exit 1; fi; exit $$code

bench: setup
	$(PY) bench/throughput.py
	$(PY) bench/phi_recall.py
	$(PY) bench/privacy.py
	$(PY) bench/mlm_quality.py
	$(PY) bench/batch.py
	$(PY) bench/keep_list.py
	$(PY) bench/utility.py
	$(PY) bench/phi_heldout.py
	$(PY) bench/privacy.py --resurrogate pkg
	$(PY) bench/scale.py
	$(PY) bench/codes.py
	$(PY) bench/adversarial.py

clean:
	rm -rf out .pytest_cache
