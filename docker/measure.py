"""A small closed-loop load generator, to compare gunicorn worker settings on one machine.

    python docker/measure.py http://127.0.0.1:8000/healthz --concurrency 8 --seconds 5 \
        --header 'Host: localhost' --header 'Authorization: Bearer pat_…'

Each of `concurrency` threads keeps one keep-alive connection and sends the next request as soon
as the previous answer arrives. Prints requests per second and latency percentiles as JSON.
Not a benchmark suite (bench/ is): a quick, reproducible way to choose WEB_CONCURRENCY.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import threading
import time
import urllib.parse


def _worker(
    url: urllib.parse.SplitResult,
    headers: dict[str, str],
    stop_at: float,
    latencies: list[float],
    errors: list[str],
) -> None:
    path = url.path + (f"?{url.query}" if url.query else "")
    host = url.hostname or "127.0.0.1"
    connection = http.client.HTTPConnection(host, url.port or 80, timeout=10)
    while time.perf_counter() < stop_at:
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(type(exc).__name__)
            connection.close()
            connection = http.client.HTTPConnection(host, url.port or 80, timeout=10)
            continue
        if response.status != 200:
            errors.append(str(response.status))
        latencies.append(time.perf_counter() - started)
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.url)
    headers = dict(item.split(": ", 1) for item in args.header)
    latencies: list[float] = []
    errors: list[str] = []
    stop_at = time.perf_counter() + args.seconds
    threads = [
        threading.Thread(target=_worker, args=(url, headers, stop_at, latencies, errors))
        for _ in range(args.concurrency)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()

    def percentile(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 2)

    print(
        json.dumps(
            {
                "requests": len(latencies),
                "rps": round(len(latencies) / args.seconds, 1),
                "p50_ms": percentile(0.50) if latencies else None,
                "p99_ms": percentile(0.99) if latencies else None,
                "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else None,
                "errors": len(errors),
                "error_kinds": sorted(set(errors))[:5],
            }
        )
    )


if __name__ == "__main__":
    main()
