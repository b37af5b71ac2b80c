"""Probe the service from inside its container (the image has no curl): exit 0 on a 200.

    python docker/healthcheck.py [/healthz|/readyz] [--base http://127.0.0.1:8000]

Django refuses a Host that is not in ALLOWED_HOSTS (400), and a probe to 127.0.0.1 carries
that address as its Host; the probe therefore presents the first allowed host name instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request


def probe_host(allowed_hosts: str) -> str:
    """A Host header Django will accept, from the ALLOWED_HOSTS variable."""
    for host in (item.strip() for item in allowed_hosts.split(",")):
        if not host:
            continue
        if host == "*":
            return "localhost"
        # `.example.com` allows example.com and its subdomains.
        return host.lstrip(".")
    return "localhost"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", nargs="?", default="/healthz")
    parser.add_argument(
        "--base", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}", help="server URL"
    )
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    request = urllib.request.Request(  # noqa: S310 (the URL is ours, http on loopback)
        args.base.rstrip("/") + args.path,
        headers={
            "Host": probe_host(os.environ.get("ALLOWED_HOSTS", "")),
            # Health paths are exempt from the HTTPS redirect; this keeps other paths honest
            # behind a TLS-terminating proxy (TRUST_PROXY_HEADERS=1).
            "X-Forwarded-Proto": "https",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        print(f"{args.path}: {exc}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"{args.path}: HTTP {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
