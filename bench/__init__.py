"""The benchmark behind `python manage.py bench` (and `make bench`): PostgreSQL's own TPC-B
(pgbench) as the reference, then Jianguan's payments, API, statement import and end of day on
the same cluster, reported as ratios to that reference.

- cluster.py   a throwaway PostgreSQL cluster (durable settings), or a fresh database on the
               server DATABASE_URL names; the run itself happens in a child process that
               sees only that database;
- pgbench.py   the reference: pgbench's built-in TPC-B;
- reference.py the second reference: the same 3-leg payment booked by a ledger in plain SQL
               (pgledger-style, PL/pgSQL), driven by pgbench;
- schema.py    `migrate`, with the migrated schema cached (pg_dump) for the next run;
- loaders.py   a realistic merchant (members, a million postings) in set-based SQL;
- workers.py   payments (and guaranteed holds and releases) through the service layer in
               worker processes;
- api.py       signed POST /api/v1/payments through gunicorn;
- measure.py   the timed part: every figure in interleaved rounds;
- sampler.py   what the backends wait for (row locks, WAL, Python), and CPU per call;
- recon.py     statement import (CSV, and .xlsx in a process of its own) and end of day,
               each in a fresh process;
- recon_timers.py  their data loaded set-based, the reconciliation services timed;
- report.py    the table, the targets and the JSON;
- runner.py    the order of things;
- management/commands/bench.py  the command's arguments (bench is an installed app for it)."""
