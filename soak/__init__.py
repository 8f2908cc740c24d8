"""The production-like run (`make prod-up`, `make soak`, `make prod-down`).

- `soak.prod`: starts and stops, under a run folder (`.prod/` unless JIANGUAN_RUN_DIR), a
  throwaway durable PostgreSQL cluster (`soak.pg`), redis-server, gunicorn with the production
  settings, a Celery worker and Celery beat — all on 127.0.0.1; `soak.procs` starts, stops and
  kills those processes (the soak's kills use it too).
- `soak.seed`: what the soak needs, through the services: an active merchant with API
  credentials, a payment channel with its signing secret, a financier seller and buyers with
  credit lines (credit lines are opened by bank staff, never over the API).
- `soak.traffic`: 16 platform clients (the project's own `jianguan_client`) sending mixed
  signed traffic, retrying transport failures with the same Idempotency-Key; what they see
  is recorded per request and per operation (`soak.records`).
- `soak.runner`: the soak itself — clients, kills midway, checks, the printed and JSON result.
- `soak.check`: every operation a client saw succeed against the database, every ledger row
  against the clients' record (lost / double / unrecorded), then verify_integrity and end of day.

Entry points: `python -m soak up|down|seed|run` (bin/prod-up, bin/prod-down, bin/soak)."""
