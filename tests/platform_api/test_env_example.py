"""`.env.example` lists every environment variable the code reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Where configuration is read: the service's packages, its entry points and the container's
# scripts. Tests are left out (they set variables, they do not configure the service).
SCANNED = ["platform_api", "orders", "ambassadors", "docker", "bench", "manage.py"]

READS = [
    # platform_api/env.py helpers, and the private copies in scripts that cannot import Django.
    re.compile(
        r"""\b_?env_(?:str|bool|optional_bool|int|float|list|required|choice)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    ),
    re.compile(
        r"""\bos\.(?:environ\.get|environ\.setdefault|getenv)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    ),
    re.compile(r"""\bos\.environ\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]"""),
    # Shell and compose: a variable with a default or a demand, `${NAME:-default}`,
    # `${NAME:?message}`, is configuration from outside.
    re.compile(r"""(?<!\$)\$\{([A-Z][A-Z0-9_]*):?[-=?]"""),
]

LISTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)

# Set by the operating system or the shell, not configuration of this service.
NOT_CONFIGURATION = {"HOME", "PATH", "PWD"}


def source_files() -> list[Path]:
    files: list[Path] = []
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and p.suffix in {".py", ".sh", ".yml", ".yaml", ""}
                and "migrations" not in p.parts
                and "__pycache__" not in p.parts
            )
    return files


def variables_read(text: str) -> set[str]:
    return {match for pattern in READS for match in pattern.findall(text)}


def variables_read_by_the_code() -> dict[str, list[str]]:
    """Each variable the code reads, with the files that read it."""
    found: dict[str, list[str]] = {}
    for path in source_files():
        for name in variables_read(path.read_text(errors="replace")) - NOT_CONFIGURATION:
            found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def variables_listed() -> set[str]:
    return set(LISTED.findall((ROOT / ".env.example").read_text()))


def test_every_variable_the_code_reads_is_in_env_example() -> None:
    # given
    read = variables_read_by_the_code()
    # when
    missing = {name: files for name, files in read.items() if name not in variables_listed()}
    # then
    assert not missing, f"add these to .env.example, with a comment: {missing}"


def test_the_scan_finds_the_settings_variables() -> None:
    # A scan that silently matched nothing would pass the test above for ever.
    read = variables_read_by_the_code()
    assert {"SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "DEBUG", "RATE_LIMIT"} <= set(read)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('x = env_int("DATABASE_POOL_SIZE", 0)', {"DATABASE_POOL_SIZE"}),
        ('env_required(\n    "SECRET_KEY", "why")', {"SECRET_KEY"}),
        ("_env_bool('GUNICORN_ACCESS_LOG', False)", {"GUNICORN_ACCESS_LOG"}),
        ('os.environ.get("DB_WAIT_SECONDS", "60")', {"DB_WAIT_SECONDS"}),
        ('int(env_float("SOAK_CONNECTIONS", 32))', {"SOAK_CONNECTIONS"}),
        ('os.getenv("FOO_BAR")', {"FOO_BAR"}),
        ('os.environ["BAZ"]', {"BAZ"}),
        ('os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x")', {"DJANGO_SETTINGS_MODULE"}),
        ('if [ "${MIGRATE_ON_START:-0}" = "1" ]', {"MIGRATE_ON_START"}),
        ("${POSTGRES_PASSWORD:?set it in .env}", {"POSTGRES_PASSWORD"}),
        ('pg_isready -U "$${POSTGRES_USER}"', set()),
        ('cd "$APP_DIR"', set()),
        ("value = env_str(name)", set()),
    ],
)
def test_the_scan_recognises_each_way_of_reading_a_variable(line: str, expected: set[str]) -> None:
    assert variables_read(line) == expected


def test_every_listed_variable_has_a_comment() -> None:
    # A variable line, or a group of them, sits right under the comment that explains it.
    lines = (ROOT / ".env.example").read_text().splitlines()
    uncommented = []
    for index, line in enumerate(lines):
        if not (match := LISTED.match(line)):
            continue
        above = index - 1
        while above >= 0 and LISTED.match(lines[above]):
            above -= 1
        if above < 0 or not lines[above].startswith("# "):
            uncommented.append(match.group(1))
    assert not uncommented, f"explain these in .env.example: {uncommented}"
