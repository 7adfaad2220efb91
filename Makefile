# The two commands: `make run` and `make test`. Both bootstrap .venv from a clean clone.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
MODULES := $(sort $(wildcard science_modules/*/setup.cfg))
export PYSPARK_PYTHON := $(abspath $(PY))
export PYSPARK_DRIVER_PYTHON := $(abspath $(PY))

SWAGGER_UI_VERSION := 5.32.0
SWAGGER := fink_like/api/static/vendor/swagger-ui
CHROMIUM := /usr/bin/chromium

.PHONY: run test venv bench clean lint vendor browser freeze-science

venv: $(STAMP) vendor

# swagger-ui for /docs, vendored from the npm registry at build time (the API works offline).
vendor: $(SWAGGER)/swagger-ui-bundle.js

$(SWAGGER)/swagger-ui-bundle.js:
	rm -rf $(SWAGGER).tmp && mkdir -p $(SWAGGER).tmp
	cd $(SWAGGER).tmp && npm pack --silent swagger-ui-dist@$(SWAGGER_UI_VERSION) >/dev/null && tar xzf swagger-ui-dist-*.tgz
	mkdir -p $(SWAGGER)
	cp $(SWAGGER).tmp/package/swagger-ui-bundle.js $(SWAGGER).tmp/package/swagger-ui.css $(SWAGGER).tmp/package/LICENSE $(SWAGGER)/
	rm -rf $(SWAGGER).tmp

# The portal's browser tests drive Debian's chromium (never a downloaded browser).
browser: $(CHROMIUM)

$(CHROMIUM):
	apt-get install -y chromium || (apt-get update && apt-get install -y chromium)

$(STAMP): setup.cfg pyproject.toml $(MODULES)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel setuptools
	# torch first and pinned: the CPU wheel is on disk; an unpinned torch pulls CUDA.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]' $(foreach m,$(MODULES),-e $(dir $(m)))
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/fink-like --config conf/local.yaml run --keep-kafka

test: $(STAMP) vendor browser
	$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest: no tests were collected (exit 5), treated as success"; exit 0; fi; exit $$rc

# Refreeze tests/science/data/science_outputs.parquet after an intended science change
# (retrained model, new module or canonical column); see tests/README.md.
freeze-science: $(STAMP)
	$(PY) tests/science/golden.py --write

bench: $(STAMP)
	$(VENV)/bin/fink-like --config conf/local.yaml bench

clean:
	rm -rf var/ .pytest_cache spark-warehouse
