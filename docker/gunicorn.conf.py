"""gunicorn configuration: the one place where the web server's behaviour is decided.

Every value can be overridden from the environment (the names are listed in docker/README.md);
the defaults are what a container on a typical 1-4 core host should run. gunicorn executes this
file as a module, and tests import it with a patched environment to check the computed values.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}
_CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    number = int(value)  # a typo should stop the server, not be silently replaced
    if number < 0:
        raise ValueError(f"{name} must not be negative, got {number}")
    return number


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value in _TRUE


def available_cpus(cpu_max: Path = _CGROUP_CPU_MAX) -> int:
    """CPUs this process may really use: the affinity mask, capped by a cgroup v2 CPU quota.

    `os.cpu_count()` reports the host's cores, so a container limited with `--cpus 2` on a
    64-core host would otherwise start 129 workers and exhaust PostgreSQL's connections.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cpus = cpus or 1
    try:
        quota, period = cpu_max.read_text().split()[:2]
    except (OSError, ValueError):
        return cpus
    if quota == "max":
        return cpus
    return max(1, min(cpus, math.ceil(int(quota) / int(period))))


# --- Socket ----------------------------------------------------------------------------------
bind = f"{os.environ.get('HOST', '0.0.0.0')}:{_env_int('PORT', 8000)}"  # noqa: S104 (container)

# --- Workers ---------------------------------------------------------------------------------
# gthread rather than sync: nginx (docker/nginx/) keeps connections to gunicorn alive, which a
# sync worker would close after every request. Slow and idle clients are nginx's to absorb
# (docs/edge.md): gunicorn must never face the internet, its few threads would be pinned.
# Requests are short and database-bound; 2 threads per process overlap one request's database
# wait with another's Python work.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = _env_int("GUNICORN_THREADS", 2)
# One process per core: with 2 threads each that is 2 requests in flight per core, which
# measured as fast as 2*cores+1 sync-style processes (docker/README.md, "Sizing") while using
# fewer database connections and less memory. WEB_CONCURRENCY (the PaaS convention) overrides.
workers = _env_int("WEB_CONCURRENCY", 0) or available_cpus()

# --- Timeouts --------------------------------------------------------------------------------
# A request that takes longer than this is stuck (the endpoint answers in milliseconds): the
# worker is killed and replaced rather than left holding a database connection.
timeout = _env_int("GUNICORN_TIMEOUT", 30)
# SIGTERM lets in-flight requests finish for this long. Keep it below the orchestrator's kill
# delay (compose: stop_grace_period 30s; Kubernetes: terminationGracePeriodSeconds 30).
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 20)
# Longer than the load balancer's idle timeout (AWS ALB and nginx default to 60 s): the balancer,
# not gunicorn, must be the one to close an idle connection, or a request sent on a connection
# that gunicorn is closing fails with a 502.
keepalive = _env_int("GUNICORN_KEEPALIVE", 75)

# --- Memory safety ---------------------------------------------------------------------------
# Recycle a worker after this many requests so that slow leaks cannot grow without bound; the
# jitter keeps the workers from all restarting at the same moment. Each restart re-imports Django
# and reconnects: at 2,000 requests a busy worker restarted every few seconds and lost ~30% of
# its throughput (bench/run.py, S1: 401-442 rps against 589-682 without recycling). The soak
# (bench/soak.py) showed no growth to bound, so recycling is a rare safety net.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 100_000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 10_000)

# --- Proxies ---------------------------------------------------------------------------------
# gunicorn, by default, believes X-Forwarded-Proto from 127.0.0.1, which would make Django see
# https (wsgi.url_scheme) even with TRUST_PROXY_HEADERS off. Trust forwarded headers exactly
# when the Django settings do, from FORWARDED_ALLOW_IPS (default: any peer, since inside a
# container network the balancer's address is not known in advance).
if _env_bool("TRUST_PROXY_HEADERS", False):
    forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "").strip() or "*"
else:
    forwarded_allow_ips = ""
    secure_scheme_headers: dict[str, str] = {}

# --- Request limits --------------------------------------------------------------------------
# gunicorn refuses oversized requests itself, with an HTML page (414/431); below these limits the
# application answers them in JSON. The request line gets gunicorn's maximum (8190 bytes: a query
# string of about 8 KB), header fields 16 KiB so that a 10 KB `Authorization` header is the
# application's JSON 401, not gunicorn's HTML 431. (tests/orders/test_hostile_input.py)
limit_request_line = 8190
limit_request_field_size = 16384

# --- Logging ---------------------------------------------------------------------------------
# The application writes one structured JSON line per request (platform_api/request_log.py),
# with the request id and the token prefix; gunicorn's access log would repeat every request in
# another format. It stays off unless GUNICORN_ACCESS_LOG=1 (e.g. to see requests gunicorn
# itself rejects before Django, such as malformed HTTP).
_access_log = _env_bool("GUNICORN_ACCESS_LOG", False)
accesslog = "-" if _access_log else None
access_log_format = (
    '{"remote":"%(h)s","method":"%(m)s","path":"%(U)s","status":%(s)s,'
    '"bytes":"%(B)s","duration_us":%(D)s,"request_id":"%({x-request-id}o)s"}'
)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# gunicorn's own messages (boot, worker timeouts, shutdown) in the same JSON shape as the app's.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "platform_api.request_log.JsonFormatter"}},
    "handlers": {
        "error_console": {"class": "logging.StreamHandler", "formatter": "json"},
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        },
    },
    "loggers": {
        "gunicorn.error": {
            "handlers": ["error_console"],
            "level": loglevel.upper(),
            "propagate": False,
        },
        # gunicorn hands every request to this logger once a logconfig_dict is set: with the
        # access log off it has no handler and drops them.
        "gunicorn.access": {
            "handlers": ["console"] if _access_log else [],
            "level": "INFO" if _access_log else "CRITICAL",
            "propagate": False,
        },
    },
}

# --- Process ---------------------------------------------------------------------------------
# The worker heartbeat file lives in memory: on a container's overlay filesystem a blocked
# write can make gunicorn think a healthy worker is stuck.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# gunicorn 25+ opens a control socket under $HOME by default; the image's user has no writable
# home and nothing here uses `gunicornc`.
control_socket_disable = True
# Forked workers each open their own database connections; loading the app before forking
# would share the parent's, so each worker imports Django itself.
preload_app = False
proc_name = "platform-api"
# gunicorn always sends `Server: gunicorn` (no version since 20.0) and has no setting to remove
# it; a load balancer that must hide it strips the header (docker/README.md).
