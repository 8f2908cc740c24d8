"""The back office staff use every day, built on every other app (nothing depends on it):
the per-role dashboards on the admin index, the merchant 360 page, the complaint look-up
(客户投诉查询), RM performance (绩效考核数据) with its nightly snapshot, and the progress of
long work (statement imports, end-of-day runs) started from the admin.

Reads live in backoffice.selectors (one module per screen, each a fixed number of queries,
set-based SQL over the ledger); the only writes are the audited look-up, the snapshots and
the job records (backoffice.services, backoffice.jobs)."""
