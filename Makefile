# `make bench` runs the benchmark of issue 8: a throwaway durable PostgreSQL cluster unless
# DATABASE_URL names a PostgreSQL server (then fresh databases beside it). Options go in ARGS:
#   make bench ARGS="--quick --json bench-results.json"
.PHONY: bench
bench:
	bash -c 'source bin/_venv.sh && DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-config.settings.local} python manage.py bench "$$@"' bench $(ARGS)

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

# Issue 15's backup and restore drill (backup/): `make backup` writes a consistent pg_dump of
# DATABASE_URL's database (default: the prod-up stack's) and its fingerprint to .backups/;
# `make restore-check` restores the newest into a fresh cluster, runs verify_integrity on the copy
# and compares audit chain and balances with the source. ARGS as above: make restore-check ARGS="--keep"
.PHONY: backup restore-check
backup:
	bin/backup $(ARGS)

restore-check:
	bin/restore-check $(ARGS)
