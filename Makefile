# `make bench` runs the benchmark of issue 8: a throwaway durable PostgreSQL cluster unless
# DATABASE_URL names a PostgreSQL server (then fresh databases beside it). Options go in ARGS:
#   make bench ARGS="--quick --json bench-results.json"
.PHONY: bench
bench:
	bash -c 'source bin/_venv.sh && python manage.py bench "$$@"' bench $(ARGS)

# Issue 10's production-like run on one machine (soak/): `make prod-up` starts PostgreSQL, Redis,
# gunicorn (production settings), a Celery worker and beat on 127.0.0.1 under .prod/; `make soak`
# drives 16 signed clients for 2 minutes with kills midway and checks nothing was lost or doubled;
# `make prod-down` stops it all. Options go in ARGS: make soak ARGS="--duration 30 --json soak.json"
.PHONY: prod-up prod-down soak
prod-up:
	bin/prod-up $(ARGS)

prod-down:
	bin/prod-down $(ARGS)

soak:
	bin/soak $(ARGS)
