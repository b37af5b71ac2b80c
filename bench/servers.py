"""Servers and checkouts side by side: wrk rounds alternating between variants, with each
variant's CPU per request (its processes, the bench database's PostgreSQL backends, Redis).

    .venv/bin/python bench/servers.py --variant sync=.:sync --variant granian=.:granian1 \
        --only S1,S4 --rounds 3 --duration 8 --floor

A variant is NAME=CHECKOUT:SERVER: the checkout's code (its directory) served by `sync`,
`gthreadN` (gunicorn with docker/gunicorn.conf.py), `granianN` (N blocking threads) or `bjoern`;
append `+proxy` to put the deployment's nginx in front. granian and bjoern are not dependencies
of the project: `pip install granian bjoern-binary` into the venv first. `--floor` adds the
prepared pgbench floor per scenario. An ad-hoc tool (docs/scaling.md, "WSGI servers side by
side"); bench/run.py remains the benchmark.
"""

# ruff: noqa
import argparse, contextlib, os, signal, statistics, subprocess, sys, time, http.client
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import run
from bench.run import SCENARIOS
from bench.env import bench_env
from bench.fault import free_port
from bench.edge import nginx_in_front
from bench.env import OUT

# bjoern has no supervisor: fork the workers, each importing the app and sharing the port.
BJOERN = """
import os, signal, sys
port, workers = int(sys.argv[1]), int(sys.argv[2])
children = []
for _ in range(workers):
    pid = os.fork()
    if pid == 0:
        import bjoern
        from platform_api.wsgi import application
        bjoern.listen(application, "127.0.0.1", port, reuse_port=True)
        bjoern.run()
        os._exit(0)
    children.append(pid)
def stop(*_):
    for child in children:
        os.kill(child, signal.SIGKILL)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
for child in children:
    os.waitpid(child, 0)
"""

p = argparse.ArgumentParser()
p.add_argument("--variant", action="append", required=True)
p.add_argument("--only", default="S1,S4")
p.add_argument("--duration", type=int, default=10)
p.add_argument("--warmup", type=int, default=3)
p.add_argument("--rounds", type=int, default=3)
p.add_argument("--connections", type=int, default=8)
p.add_argument("--workers", type=int, default=2)
p.add_argument("--floor", action="store_true")
a = p.parse_args()
args = argparse.Namespace(
    threads=2, connections=a.connections, warmup=a.warmup, duration=a.duration, workers=a.workers
)


@contextlib.contextmanager
def server(root, kind):
    port = free_port()
    env = bench_env(log_level="WARNING")
    env["PYTHONPATH"] = root
    env.update(
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY=str(a.workers),
        GUNICORN_TIMEOUT="60",
        GUNICORN_GRACEFUL_TIMEOUT="5",
        GUNICORN_LOG_LEVEL="warning",
    )
    venv = str(ROOT / ".venv" / "bin")
    proxy = kind.endswith("+proxy")
    kind = kind.removesuffix("+proxy")
    if kind.startswith("sync"):
        env.update(GUNICORN_WORKER_CLASS="sync", GUNICORN_THREADS="1")
        cmd = [f"{venv}/gunicorn", "-c", "docker/gunicorn.conf.py", "platform_api.wsgi:application"]
    elif kind.startswith("gthread"):
        threads = kind.removeprefix("gthread") or "2"
        env.update(GUNICORN_WORKER_CLASS="gthread", GUNICORN_THREADS=threads)
        cmd = [f"{venv}/gunicorn", "-c", "docker/gunicorn.conf.py", "platform_api.wsgi:application"]
    elif kind.startswith("granian"):
        threads = kind.removeprefix("granian") or "1"
        cmd = [
            f"{venv}/granian",
            "--interface",
            "wsgi",
            "--workers",
            str(a.workers),
            "--blocking-threads",
            threads,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-ws",
            "platform_api.wsgi:application",
        ]
    elif kind == "bjoern":
        cmd = [f"{venv}/python", "-c", BJOERN, str(port), str(a.workers)]
    else:
        raise SystemExit(kind)
    OUT.mkdir(exist_ok=True)
    log = open(OUT / f"server-{kind}-{port}.log", "w")
    proc = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    server.pgid = proc.pid
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{kind} exited; see {log.name}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    break
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise SystemExit("not ready")
            time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        if proxy:
            with nginx_in_front(base) as pbase:
                yield pbase
        else:
            yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def ticks(pid):
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])
    except OSError:
        return 0


def service_pids(pgid):
    out = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True).stdout.split()
    return [int(x) for x in out]


def pg_pids():
    import psycopg

    with psycopg.connect(run.database_url(), autocommit=True) as c:
        return [
            r[0]
            for r in c.execute(
                "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
            )
        ]


def redis_pid():
    out = subprocess.run(
        ["pgrep", "-x", "redis-server"], capture_output=True, text=True
    ).stdout.split()
    return [int(x) for x in out]


CLK = os.sysconf("SC_CLK_TCK")
run.django_setup()
token = run.create_tokens()[1]
from django.db import connections

connections.close_all()
variants = []
for v in a.variant:
    name, _, rest = v.partition("=")
    root, _, kind = rest.rpartition(":")
    variants.append((name, root, kind))
results = {}
for sc in [s for s in SCENARIOS if s.name in a.only.split(",")]:
    for r in range(a.rounds):
        order = variants if r % 2 == 0 else variants[::-1]
        for name, root, kind in order:
            with server(root, kind) as base:
                run.run_wrk(base, sc, "platform", token, args, a.warmup)
                groups = {"app": service_pids(server.pgid), "pg": pg_pids(), "redis": redis_pid()}
                before = {g: sum(ticks(x) for x in pids) for g, pids in groups.items()}
                load = run.run_wrk(base, sc, "platform", token, args, a.duration)
                after = {g: sum(ticks(x) for x in pids) for g, pids in groups.items()}
                load.cpu = {
                    g: (after[g] - before[g]) / CLK / max(load.requests, 1) * 1000 for g in groups
                }
            results.setdefault((sc.name, name), []).append(load)
            cpu = " ".join(f"{g} {v:.2f}" for g, v in load.cpu.items())
            print(
                f"{sc.name} {name} r{r + 1}: {load.rps:.1f} rps p50 {load.p50_ms} p99 {load.p99_ms} err {load.errors} | CPU ms/req {cpu} {load.note}",
                flush=True,
            )
    if a.floor:
        pgbench = run.ensure_tools()
        q = run.floor_query(
            sc, ":aid" if sc.ambassador is None else str(sc.ambassador), sample=False
        )
        fl = run.measure_floor(pgbench, sc, q, "prepared", args)
        results[(sc.name, "floor-prepared")] = [fl]
        print(f"{sc.name} floor prepared: {fl.rps:.1f}", flush=True)
print("\nmedians:")
for sc in [s.name for s in SCENARIOS if s.name in a.only.split(",")]:
    first = statistics.median(l.rps for l in results[(sc, variants[0][0])])
    fl = results.get((sc, "floor-prepared"))
    for name, *_ in variants:
        m = statistics.median(l.rps for l in results[(sc, name)])
        rounds = ", ".join(f"{l.rps:.0f}" for l in results[(sc, name)])
        extra = f"  /floor-prep {m / fl[0].rps:.2f}x" if fl else ""
        cpu = " ".join(
            f"{g} {statistics.median(l.cpu[g] for l in results[(sc, name)]):.3f}"
            for g in ("app", "pg", "redis")
        )
        print(
            f"{sc} {name:12s} {m:7.1f} rps ({rounds})  vs {variants[0][0]} {m / first:.2f}x{extra} | median CPU ms/req {cpu}"
        )
    if fl:
        print(f"{sc} floor-prepared {fl[0].rps:.1f}")
