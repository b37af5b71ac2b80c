"""The benchmark serves with the allocator settings the image sets (docker/Dockerfile)."""

from __future__ import annotations

import re
from pathlib import Path

from bench.env import bench_env

DOCKERFILE = Path(__file__).resolve().parents[2] / "docker" / "Dockerfile"


def image_env() -> dict[str, str]:
    text = DOCKERFILE.read_text()
    runtime = text[text.index("AS runtime") :]
    block = re.search(r"^ENV (.*?)(?<!\\)\n", runtime, re.MULTILINE | re.DOTALL)
    assert block is not None
    return dict(re.findall(r"(\w+)=(\S+)", block.group(1)))


def test_the_image_keeps_large_buffers_in_the_heap() -> None:
    env = image_env()
    assert int(env["MALLOC_MMAP_THRESHOLD_"]) >= 1024 * 1024
    assert int(env["MALLOC_TRIM_THRESHOLD_"]) >= int(env["MALLOC_MMAP_THRESHOLD_"])


def test_the_benchmark_serves_with_the_image_allocator_settings(monkeypatch) -> None:
    for name in ("MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(name, raising=False)
    served = bench_env()
    for name, value in image_env().items():
        if name.startswith("MALLOC_"):
            assert served[name] == value, name
