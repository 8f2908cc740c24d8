"""python -m backup dump | restore-check | drill   (bin/backup, bin/restore-check; see backup/__init__.py)."""
import argparse
import json
import os
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backup")
    sub = parser.add_subparsers(dest="command", required=True)
    p_dump = sub.add_parser("dump", help="pg_dump the database of DATABASE_URL, with its fingerprint (make backup)")
    p_dump.add_argument("--out", help="folder of the dumps (default $JIANGUAN_BACKUP_DIR or .backups/)")
    p_dump.add_argument("--json", dest="json_path", help="also write the manifest to this file")
    p_check = sub.add_parser("restore-check", help="restore a dump into a fresh cluster and prove it (make restore-check)")
    p_check.add_argument("dump", nargs="?", help="the dump (default: the newest in the folder)")
    p_check.add_argument("--out", help="folder of the dumps (default $JIANGUAN_BACKUP_DIR or .backups/)")
    p_check.add_argument("--jobs", type=int, default=2, help="pg_restore's parallel jobs (default 2)")
    p_check.add_argument("--keep", action="store_true", help="leave the restored cluster running")
    p_check.add_argument("--json", dest="json_path", help="write the result to this file")
    p_drill = sub.add_parser("drill", help="the drill on a throwaway cluster holding the benchmark's merchant")
    p_drill.add_argument("--members", type=int, default=10_000)
    p_drill.add_argument("--postings", type=int, default=1_000_000)
    p_drill.add_argument("--jobs", type=int, default=2)
    p_drill.add_argument("--json", dest="json_path", help="write the result to this file")
    args = parser.parse_args(argv)

    from .dump import BackupError

    try:
        if args.command == "dump":
            url = os.environ.get("DATABASE_URL", "")
            if not url.startswith(("postgres://", "postgresql://")):
                raise BackupError("DATABASE_URL must name the PostgreSQL database to back up")
            from .dump import dump

            result = dump(url=url, out=args.out)
            passed = True
        elif args.command == "drill":
            from .drill import drill

            result = drill(members=args.members, postings=args.postings, jobs=args.jobs)
            passed = result["passed"]
            print_check(result)
            print(f"  source              {result['members']:,} members, {result['entries']:,} entries loaded in "
                  f"{result['load_seconds']} s; pg_dump {result['dump_seconds']} s "
                  f"(+ fingerprint {result['fingerprint_seconds']} s), PostgreSQL {result['server_version']}")
        else:
            from .restore import restore_check

            result = restore_check(path=args.dump, out=args.out, keep=args.keep, jobs=args.jobs)
            passed = result["passed"]
            print_check(result)
    except BackupError as error:
        print(f"backup: {error}", file=sys.stderr)
        return 1
    if args.json_path:
        with open(args.json_path, "w") as fh:
            json.dump(result, fh, indent=2)
    return 0 if passed else 1


def print_check(r: dict):
    print(f"restore-check: {r['dump']} ({r['bytes'] / 1e6:.1f} MB, taken {r['source_created_utc']}, "
          f"{r['postings']:,} postings)")
    print(f"  restore             {r['restore_seconds']} s (pg_restore; {r['restore_and_analyze_seconds']} s "
          f"with ANALYZE)")
    last = r["verify_integrity"].splitlines()[-1] if r["verify_integrity"] else ""
    print(f"  verify_integrity    {'ok' if r['verify_integrity_ok'] else 'FAILED'} in {r['verify_seconds']} s: {last}")
    print(f"  audit chain         {r['audit_records']} records, head {r['audit_chain_head'][:16]}…")
    print(f"  identical to source {'yes' if r['identical'] else 'NO'}: audit chain, balances, hot deltas, "
          f"postings per account, journal")
    for line in r["differences"]:
        print(f"    {line}")
    if r.get("kept_cluster"):
        print(f"  kept                {r['kept_cluster']['url']} (stop: {r['kept_cluster']['stop']})")
    print(f"  RESULT              {'PASS' if r['passed'] else 'FAIL'}")


if __name__ == "__main__":
    sys.exit(main())
