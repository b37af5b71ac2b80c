"""docker/gunicorn.conf.py: the values gunicorn gets, for each environment."""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from gunicorn.config import Config

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "docker" / "gunicorn.conf.py"
VARIABLES = [
    "PORT",
    "HOST",
    "WEB_CONCURRENCY",
    "GUNICORN_WORKER_CLASS",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "GUNICORN_GRACEFUL_TIMEOUT",
    "GUNICORN_KEEPALIVE",
    "GUNICORN_MAX_REQUESTS",
    "GUNICORN_MAX_REQUESTS_JITTER",
    "GUNICORN_ACCESS_LOG",
    "GUNICORN_LOG_LEVEL",
    "TRUST_PROXY_HEADERS",
    "FORWARDED_ALLOW_IPS",
]


@pytest.fixture
def load(monkeypatch):
    """The configuration module's names, as gunicorn would read them with the given env."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def loader(**env: str) -> dict[str, Any]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(CONF))

    return loader


def settings_of(namespace: dict[str, Any]) -> dict[str, Any]:
    """The names gunicorn treats as settings (public, not modules, functions or classes)."""
    return {
        name: value
        for name, value in namespace.items()
        if not name.startswith("_")
        and not isinstance(value, ModuleType | type)
        and not callable(value)
        and name not in {"annotations", "math", "os", "Path"}
    }


def test_every_name_is_a_gunicorn_setting_that_gunicorn_accepts(load):
    # A typo (`graceful_timout`) would otherwise be ignored silently by gunicorn.
    config = Config()
    for name, value in settings_of(load()).items():
        assert name in config.settings, f"{name} is not a gunicorn setting"
        config.set(name, value)  # runs gunicorn's own validator

    assert config.worker_class_str == "gthread"
    assert config.control_socket_disable is True


def test_defaults(load):
    conf = load()

    assert conf["bind"] == "0.0.0.0:8000"
    assert conf["workers"] == conf["available_cpus"]()
    assert (conf["worker_class"], conf["threads"]) == ("gthread", 2)
    assert (conf["timeout"], conf["graceful_timeout"], conf["keepalive"]) == (30, 20, 75)
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (100_000, 10_000)
    assert conf["preload_app"] is False


def test_environment_overrides(load):
    conf = load(
        PORT="9000",
        HOST="127.0.0.1",
        WEB_CONCURRENCY="7",
        GUNICORN_THREADS="4",
        GUNICORN_WORKER_CLASS="sync",
        GUNICORN_TIMEOUT="10",
        GUNICORN_GRACEFUL_TIMEOUT="5",
        GUNICORN_KEEPALIVE="2",
        GUNICORN_MAX_REQUESTS="0",
    )

    assert conf["bind"] == "127.0.0.1:9000"
    assert (conf["workers"], conf["threads"], conf["worker_class"]) == (7, 4, "sync")
    assert (conf["timeout"], conf["graceful_timeout"], conf["keepalive"]) == (10, 5, 2)
    assert conf["max_requests"] == 0  # recycling off


@pytest.mark.parametrize("value", ["0", ""])
def test_web_concurrency_zero_or_empty_means_one_per_cpu(load, value):
    conf = load(WEB_CONCURRENCY=value)

    assert conf["workers"] == conf["available_cpus"]()


@pytest.mark.parametrize(("name", "value"), [("WEB_CONCURRENCY", "four"), ("PORT", "-1")])
def test_a_malformed_number_stops_the_server(load, name, value):
    with pytest.raises(ValueError, match=r"four|PORT"):
        load(**{name: value})


@pytest.mark.parametrize(
    ("cpu_max", "expected"),
    [
        ("max 100000\n", None),  # no quota: the affinity mask decides
        ("150000 100000\n", 2),  # 1.5 CPUs: 2 workers
        ("50000 100000\n", 1),  # half a CPU: still one worker
        ("6400000 100000\n", None),  # a quota above the cores: the cores decide
    ],
)
def test_available_cpus_respects_a_cgroup_quota(load, tmp_path, cpu_max, expected):
    available_cpus = load()["available_cpus"]
    cores = available_cpus(tmp_path / "absent")  # no cgroup file: the affinity mask
    path = tmp_path / "cpu.max"
    path.write_text(cpu_max)

    assert available_cpus(path) == (min(expected, cores) if expected else cores)


def test_proxy_headers_are_not_believed_by_default(load):
    conf = load()

    # Not even from 127.0.0.1, gunicorn's own default.
    assert conf["forwarded_allow_ips"] == ""
    assert conf["secure_scheme_headers"] == {}


@pytest.mark.parametrize(
    ("allowed", "expected"), [(None, "*"), ("10.0.0.0/8,192.168.1.10", "10.0.0.0/8,192.168.1.10")]
)
def test_proxy_headers_are_believed_from_the_proxies_when_trusted(load, allowed, expected):
    env = {"TRUST_PROXY_HEADERS": "1"} | ({"FORWARDED_ALLOW_IPS": allowed} if allowed else {})

    conf = load(**env)

    assert conf["forwarded_allow_ips"] == expected
    assert "secure_scheme_headers" not in conf  # gunicorn's default (X-Forwarded-Proto & co)


def test_access_log_is_off_by_default_the_app_logs_each_request(load):
    conf = load()

    assert conf["accesslog"] is None
    access = conf["logconfig_dict"]["loggers"]["gunicorn.access"]
    assert access["handlers"] == []
    assert access["level"] == "CRITICAL"


def test_access_log_on_demand_is_json(load):
    conf = load(GUNICORN_ACCESS_LOG="1")

    assert conf["accesslog"] == "-"
    assert conf["logconfig_dict"]["loggers"]["gunicorn.access"]["handlers"] == ["console"]
    assert re.search(r'"request_id":"%\(\{x-request-id\}o\)s"', conf["access_log_format"])


def test_graceful_shutdown_fits_in_composes_stop_grace_period(load):
    compose = yaml.safe_load((ROOT / "docker" / "compose.yml").read_text())
    stop_grace = compose["services"]["app"]["stop_grace_period"]

    assert stop_grace.endswith("s")
    assert load()["graceful_timeout"] < int(stop_grace.removesuffix("s"))
