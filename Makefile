# Everything runs from project-local virtualenvs; nothing is installed system-wide.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# The Cloud Tasks emulator pins an old protobuf, so it lives in its own virtualenv.
TASKS_VENV := .venv-tasks

.PHONY: run demo test fuzz bench lint clean install

$(VENV)/.installed: pyproject.toml
	@echo "Installing dependencies into .venv (about 3-4 minutes the first time; later runs skip this)..."
	$(PYTHON) -m venv $(VENV)
	# Not quiet: each package pip collects is a line of progress.
	$(PY) -m pip install --disable-pip-version-check -e '.[cli,local,dev,bench]'
	touch $@

$(TASKS_VENV)/.installed:
	@echo "Installing the Cloud Tasks emulator into .venv-tasks (about 30 seconds)..."
	$(PYTHON) -m venv $(TASKS_VENV)
	$(TASKS_VENV)/bin/pip install -q --disable-pip-version-check 'gcloud-tasks-emulator==0.6.2'
	touch $@

install: $(VENV)/.installed $(TASKS_VENV)/.installed

run: install
	$(PY) -m shared.localstack run

demo: install
	$(PY) -m shared.localstack demo

# Two workers: the suite waits on sandboxes, servers and PostgreSQL as much as it computes.
test: install
	$(PY) -m pytest -n 2

# The schema-driven API fuzz run for longer than the bounded pass in `make test` (FUZZ_SECONDS to change).
fuzz: install
	FUZZ_SECONDS=$${FUZZ_SECONDS:-900} FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} $(PY) -m pytest tests/api/test_fuzz.py -q

bench: install
	$(PY) -m bench

lint: install
	$(VENV)/bin/ruff check shared functions sandbox tests bench deploy
	$(VENV)/bin/mypy shared functions sandbox deploy bench

clean:
	rm -rf .local $(VENV) $(TASKS_VENV)
