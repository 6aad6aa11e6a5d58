# Two commands do all set-up on a fresh machine with Python 3.11+ and make:
#   make run    create .venv, install, write a development .env if there is none, migrate, start the agents
#               double and the API on 127.0.0.1:8000 (make run PORT=9000 AGENTS_PORT=9001 for other ports)
#   make test   create .venv if needed, install, run the whole suite
#   make contract  the frontend's view: an SDK generated from openapi.yaml (Node 20 + npm) runs a whole flow live,
#               and the README's Frontend section runs as written
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test contract lint format openapi openapi-check bench bench-streams clean nginx-conf nginx-conf-check k8s-check test-deploy

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "wisdom needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

run: $(STAMP)
	@$(if $(PORT),WISDOM_PORT=$(PORT) )$(if $(AGENTS_PORT),AGENTS_DOUBLE_PORT=$(AGENTS_PORT) )WISDOM_PYTHON=$(BIN)/python ./scripts/dev-run

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# npm ci from the lockfile, the SDK generated from openapi.yaml, the flow compiled with tsc --strict and run live;
# then the README's Frontend blocks, run as written in an empty folder against a live wisdom.
contract: $(STAMP)
	cd contract && npm ci --no-audit --no-fund
	WISDOM_CONTRACT_REQUIRED=1 $(BIN)/pytest -m contract -p no:cacheprovider tests/test_contract_flow.py \
		tests/test_readme_frontend.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

openapi: $(STAMP)
	DJANGO_DEBUG=true $(BIN)/python manage.py spectacular --validate --fail-on-warn --file openapi.yaml

openapi-check: $(STAMP)
	@DJANGO_DEBUG=true $(BIN)/python manage.py spectacular --validate --fail-on-warn --file .openapi.fresh.yaml
	@if cmp -s .openapi.fresh.yaml openapi.yaml; then rm -f .openapi.fresh.yaml; echo "openapi.yaml is up to date"; \
	else diff -u openapi.yaml .openapi.fresh.yaml | head -40; rm -f .openapi.fresh.yaml; \
	echo "openapi.yaml is stale: run 'make openapi' and commit it"; exit 1; fi

bench: $(STAMP)
	$(BIN)/python -m bench

# Section 2c of docs/benchmarks.md alone: thousands of streams, wisdom beside the reference stream relay.
bench-streams: $(STAMP)
	$(BIN)/python -m bench --only streams

# The nginx in front (deploy/nginx): docker-compose's copy of the config, rendered from the template.
nginx-conf: $(STAMP)
	$(BIN)/python deploy/nginx/render.py --compose --write

nginx-conf-check: $(STAMP)
	@$(BIN)/python deploy/nginx/render.py --compose --check

# The Kubernetes manifests against the Kubernetes schemas, offline (kubernetes-validate ships them).
k8s-check: $(STAMP)
	$(BIN)/kubernetes-validate --strict --quiet deploy/k8s/*.yaml

# The deploy proofs alone: nginx in front, slow clients, restarts, replicas (the last need DATABASE_URL=postgres://...).
test-deploy: $(STAMP)
	$(BIN)/pytest tests/test_deploy_files.py tests/test_live_proxy.py tests/test_live_slow_clients.py \
		tests/test_live_restarts.py tests/test_live_replicas.py wisdom/tests/test_metrics.py $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3* .test-db*.sqlite3* staticfiles .pytest_cache .ruff_cache .hypothesis \
		contract/node_modules contract/generated contract/dist
