# `make bench` runs the benchmark of issue 8: a throwaway durable PostgreSQL cluster unless
# DATABASE_URL names a PostgreSQL server (then fresh databases beside it). Options go in ARGS:
#   make bench ARGS="--quick --json bench-results.json"
.PHONY: bench
bench:
	bash -c 'source bin/_venv.sh && python manage.py bench "$$@"' bench $(ARGS)
