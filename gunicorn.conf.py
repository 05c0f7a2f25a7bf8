"""gunicorn settings for einstein in production, read from the environment.

gunicorn einstein.wsgi:app --config gunicorn.conf.py
"""

import multiprocessing
import os

#: Where to listen. Behind a reverse proxy on the same machine 127.0.0.1 is right; set BIND to
#: 0.0.0.0:8000 when a load balancer on another machine sends the traffic.
bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
#: Processes: about two per core; each holds its own database connections (pool of 5 + 10).
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
#: Threads per process: requests mostly wait for the database, so a few threads help.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
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
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
