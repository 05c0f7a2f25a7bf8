"""gunicorn settings for einstein in production, read from the environment.

gunicorn einstein.wsgi:app --config gunicorn.conf.py
"""

import gc
import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

#: Where to listen. Behind a reverse proxy on the same machine 127.0.0.1 is right; set BIND to
#: 0.0.0.0:8000 when a load balancer on another machine sends the traffic.
bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
#: Processes: about two per core. Each request holds one database connection while it runs, so a
#: machine uses up to workers x threads connections: keep the sum over all web machines and
#: Celery processes below PostgreSQL's max_connections (100 by default).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
#: Sync workers (one request at a time per process) behind a proxy that buffers slow clients
#: (nginx, a load balancer): measured here they took bookings faster than threads did
#: (bench/RESULTS.md). GUNICORN_WORKER_CLASS=gthread with GUNICORN_THREADS=4 if no proxy buffers.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
#: Load einstein once in the master and fork the workers from it: a worker that restarts is
#: ready at once instead of taking a second to import everything (a p99 spike under load).
preload_app = True
#: Restart a process now and then, so that a slow leak can never grow.
max_requests = 100_000
max_requests_jitter = 10_000
#: Trust X-Forwarded-* only from the proxy (einstein's PROXY_FIX setting reads them).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
#: Set GUNICORN_ACCESS_LOG to an empty value to switch the access log off (benchmarks do).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
#: The access log masks the tokens in reset, confirmation, cancel and calendar links.
logger_class = "einstein.accesslog.MaskingLogger"
#: gunicorn's usual line, and the request id the app answered with (JSON lines carry it as a field).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

#: The workers count requests for /metrics in files of one shared folder (prometheus_client's
#: multiprocess mode), set before einstein is imported. Without PROMETHEUS_MULTIPROC_DIR a fresh
#: folder is made for this run and removed at the end; a given one is emptied at the start.
_made_metrics_dir = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _made_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="einstein-metrics-")
else:
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink()


def pre_fork(server, worker):
    """Before each worker is forked: move what the master has loaded (einstein, its libraries,
    the app) out of the garbage collector's sight (``gc.freeze``, as Python's documentation
    advises for a process that forks). The collector in a worker then never walks those objects:
    it no longer writes to the pages the master shares with it (less memory per worker), its
    full collections are short, and a worker that stops is gone in a fraction of a second where
    the collection at its exit took about half a second each (measured: a server of 4 workers
    stopped in about 0.5 s instead of 2.5 s)."""
    gc.freeze()


def child_exit(server, worker):
    """Let the metrics forget a worker that ended."""
    # imported here, not above: prometheus_client must first see PROMETHEUS_MULTIPROC_DIR
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics folder this run made."""
    if _made_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
