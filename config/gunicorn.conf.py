"""gunicorn settings for production (and the production-like run of `make prod-up`).

    gunicorn -c config/gunicorn.conf.py config.wsgi:application

Everything can be set from the environment:
- GUNICORN_BIND (default 127.0.0.1:8000): put a TLS-terminating proxy in front; never expose
  gunicorn itself to the internet.
- GUNICORN_WORKERS (default 2 × cores + 1), GUNICORN_TIMEOUT (seconds, default 60).
- GUNICORN_PIDFILE, GUNICORN_ACCESS_LOG, GUNICORN_ERROR_LOG (default: stderr, "-").

Sync workers: one request per worker process, so a request's database transaction never
shares a process with another; a worker that dies (killed, out of memory) takes only its own
request down and the master forks a replacement. The application is loaded in the master
before forking (preload_app): a replacement worker starts in milliseconds, and a broken
deployment fails at start instead of in every worker."""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count() + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
preload_app = True
# Django opens database connections lazily (in the workers, after the fork): nothing opened
# while preloading is shared between processes.
pidfile = os.environ.get("GUNICORN_PIDFILE") or None
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Amounts and identity data are in bodies, never in URLs; the access log shows method, path,
# status, size and duration (microseconds) only.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus'
proc_name = "jianguan"
