"""Backup and restore drill: `make backup`, `make restore-check`.

`python -m backup dump [--out DIR]` writes one consistent `pg_dump` of the database that
DATABASE_URL names (custom format, compressed) and beside it a manifest: the dump's size and
time, and a fingerprint of the books taken *in the very snapshot the dump was taken from*
(the dump runs with `--snapshot`, exported by the transaction that computed the fingerprint),
so the copy can be compared with the source as it was, while the source keeps booking.

`python -m backup restore-check [DUMP]` (the newest dump by default) initialises a fresh
PostgreSQL cluster in a temporary folder, restores the dump into it with `pg_restore`, runs
`manage.py verify_integrity` against the copy, computes the same fingerprint there and compares
it with the manifest: the audit hash chain (every record's hash, in order), every account's
materialised balance and pending hot deltas, every account's sum of postings, the journal's
size. Exit status 0 only if the restore succeeded, verify_integrity passed on the copy and the
fingerprints are identical. The cluster is removed afterwards (`--keep` leaves it running).

See fingerprint.py for what is compared and dump.py / restore.py for the steps."""
