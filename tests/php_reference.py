"""PHP itself as the reference: a `php` process running tests/php/reference.php.

The differential tests compare platform_api's emulation of PHP and Laravel with what PHP really
does. Where `php` is absent they skip, saying so; CI sets REQUIRE_PHP=1 (and installs php-cli),
so that there a missing PHP fails instead of skipping.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from platform_api.php_query import PhpArray, PhpValue, integer_key

SCRIPT = Path(__file__).parent / "php" / "reference.php"
ANSWER_TIMEOUT_SECONDS = 10


class PhpReference:
    """One long-lived `php` process answering one JSON request per line."""

    def __init__(self, executable: str) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own script, no shell
            [executable, "-n", "-d", "error_reporting=0", str(SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, op: str, value: bytes | str) -> Any:
        """PHP's answer to `op` on `value` (text is sent as its UTF-8 bytes)."""
        raw = value.encode("utf-8", errors="surrogateescape") if isinstance(value, str) else value
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps({"op": op, "v": raw.hex()}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(
                f"php exited with status {self.process.wait(ANSWER_TIMEOUT_SECONDS)}"
            )
        return json.loads(line)["answer"]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(ANSWER_TIMEOUT_SECONDS)


def php_reference() -> PhpReference:
    """A running reference, or a skip (a failure under REQUIRE_PHP=1) when php is absent."""
    executable = shutil.which("php")
    if executable is None:
        message = "php is not installed: the differential tests against PHP need php-cli"
        if os.environ.get("REQUIRE_PHP") == "1":
            pytest.fail(message + " (REQUIRE_PHP=1: CI must run them)")
        pytest.skip(message)
    return PhpReference(executable)


def dump(value: PhpValue) -> dict[str, Any]:
    """A PhpArray in reference.php's `dump()` form: integer or string keys, bytes as hex."""
    if isinstance(value, PhpArray):
        return {
            "a": [
                ["i" if integer_key(key) is not None else "s", _hex(key), dump(item)]
                for key, item in value.items()
            ]
        }
    return {"n": None} if value is None else {"s": _hex(value)}


def _hex(text: str) -> str:
    return text.encode("utf-8", errors="surrogateescape").hex()
