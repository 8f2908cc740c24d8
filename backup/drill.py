"""`python -m backup drill`: the drill on the benchmark's merchant, for the README's figures.

A throwaway durable cluster (bench.cluster), the schema (bench.schema), the benchmark's
merchant loaded set-based (bench.loaders: 10,000 members, 1,000,000 postings by default), then
`dump` and `restore_check` exactly as `make backup` / `make restore-check` run them. Everything
is removed afterwards."""
import os
import secrets
import tempfile
import time


def drill(*, members: int, postings: int, jobs: int = 2, log=print) -> dict:
    from bench import cluster

    dbs = cluster.throwaway_cluster(log=log)
    folder = tempfile.mkdtemp(prefix="jianguan-drill-")
    try:
        os.environ["DATABASE_URL"] = dbs.app_url
        # Server settings with fresh secrets, as `make prod-up` gives them: the copy is verified
        # by `manage.py verify_integrity` in a child process with the same environment.
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
        os.environ.setdefault("DJANGO_DEBUG", "false")
        os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
        if "JIANGUAN_FIELD_KEYS" not in os.environ:
            from cryptography.fernet import Fernet

            os.environ["JIANGUAN_FIELD_KEYS"] = Fernet.generate_key().decode()
        import django

        django.setup()
        from django.db import connection

        from bench import loaders
        from bench.schema import migrate

        migrate(log=log)
        t = time.monotonic()
        log(f"drill: loading the benchmark's merchant: {members:,} members, {postings:,} postings")
        loaded = loaders.load_merchant(members=members, postings=postings, log=log)
        loaders.drop_scratch_tables()
        load_s = time.monotonic() - t
        connection.close()

        from .dump import dump
        from .restore import restore_check

        manifest = dump(url=dbs.app_url, out=folder, log=log)
        result = restore_check(path=os.path.join(folder, manifest["dump"]), jobs=jobs, log=log)
        result.update({"members": loaded.members, "entries": loaded.entries, "load_seconds": round(load_s, 1),
                       "dump_seconds": manifest["dump_seconds"], "fingerprint_seconds": manifest["fingerprint_seconds"],
                       "server_version": manifest["server_version"]})
        return result
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        dbs.close()
