"""python -m soak up | down | seed | run   (see soak/__init__.py; bin/prod-up, bin/prod-down, bin/soak)."""
import argparse
import json
import os
import sys


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m soak")
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start the production-like stack (make prod-up)")
    p_up.add_argument("--clients", type=int, default=32, help="credit buyers to seed (one per soak client)")
    p_up.add_argument("--port", type=int, help="gunicorn's port on 127.0.0.1 (default: a free one)")
    p_up.add_argument("--workers", type=int, help="gunicorn workers (default: 2 × cores + 1)")
    sub.add_parser("down", help="stop it all (make prod-down)")
    p_seed = sub.add_parser("seed", help="(used by up) seed the soak merchant; prints JSON")
    p_seed.add_argument("--clients", type=int, default=32)
    p_run = sub.add_parser("run", help="drive the soak against the running stack (make soak)")
    p_run.add_argument("--duration", type=float, default=120.0, help="seconds of traffic (default 120)")
    p_run.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    p_run.add_argument("--json", dest="json_path", help="write the result to this file")
    p_run.add_argument("--no-kills", action="store_true", help="do not kill the worker and a gunicorn worker")
    p_run.add_argument("--no-db-crash", action="store_true",
                       help="kill the workers but not PostgreSQL (no immediate shutdown and restart)")
    p_run.add_argument("--url", help="gunicorn's base URL (default: the stack's); only 127.0.0.1 is accepted")
    args = parser.parse_args(argv)

    from .prod import ProdError

    try:
        if args.command == "up":
            from .prod import up

            up(clients=args.clients, web_port=args.port, workers=args.workers)
        elif args.command == "down":
            from .prod import down

            down()
        elif args.command == "seed":
            _django()
            from .seed import seed

            print(json.dumps(seed(clients=args.clients)))
        elif args.command == "run":
            from .runner import run

            return run(duration=args.duration, clients=args.clients, json_path=args.json_path,
                       kills=not args.no_kills, url=args.url, setup_django=_django,
                       database_crash=not args.no_db_crash)
    except ProdError as error:
        print(f"prod: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
