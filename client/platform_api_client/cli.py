"""`platform-api export orders ...`: an ambassador's (or a whole brand's) orders to a file.

Exit codes, for scripts:
    0  done (or nothing left to resume: the export was complete)
    2  bad command line (argparse), or the output cannot be written
    3  the token was refused (401) or may not read this (403)
    4  the ambassador does not exist (404)
    5  the API refused a filter or sort (400/422)
    6  the API stayed unavailable (429/503/5xx, network) after every retry: run again with --resume
    7  --resume refused: no state file, or one written for other options
    8  an answer the client does not understand
  130  interrupted (Ctrl-C): run again with --resume
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tqdm import tqdm

from platform_api_client.client import MAX_PER_PAGE, PlatformApiClient
from platform_api_client.errors import (
    Forbidden,
    InvalidQuery,
    NotFound,
    PlatformApiError,
    Unauthorized,
    Unavailable,
)
from platform_api_client.export import ExportRequest, ResumeError, run_export

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_NOT_FOUND = 4
EXIT_INVALID_QUERY = 5
EXIT_UNAVAILABLE = 6
EXIT_RESUME = 7
EXIT_UNEXPECTED = 8
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="platform-api",
        description="Platform API client.",
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="export data to a file")
    what = export.add_subparsers(dest="what", required=True)
    orders = what.add_parser(
        "orders",
        help="an ambassador's orders, or every ambassador's of the brand",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    orders.add_argument("--base-url", required=True, help="e.g. https://api.example.com")
    orders.add_argument(
        "--token-env",
        required=True,
        metavar="VAR",
        help="name of the environment variable holding the API token (never on the command line)",
    )
    who = orders.add_mutually_exclusive_group(required=True)
    who.add_argument("--ambassador", type=int, metavar="ID", help="the ambassador's id")
    who.add_argument(
        "--all-ambassadors",
        action="store_true",
        help="every ambassador of the token's brand (brand tokens), one after the other",
    )
    orders.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="filter[NAME]=VALUE, repeatable (e.g. last_status=OK,FULFILLED)",
    )
    orders.add_argument(
        "--updated-since",
        metavar="T",
        help="only orders updated at or after T (ISO 8601), for incremental sync",
    )
    orders.add_argument("--sort", help="e.g. -date_order (the API's default), date_update")
    orders.add_argument("--per-page", type=int, default=MAX_PER_PAGE, help="1-100 (default 100)")
    orders.add_argument("--format", required=True, choices=["jsonl", "csv"])
    orders.add_argument("--out", required=True, type=Path, metavar="FILE")
    orders.add_argument(
        "--resume",
        action="store_true",
        help="continue the export FILE.state.json describes (same options) after a crash",
    )
    orders.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    orders.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    return parser


def parse_filters(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str]:
    filters: dict[str, str] = {}
    for item in args.filter:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error(f"--filter takes NAME=VALUE, not {item!r}")
        filters[name] = value
    if args.updated_since is not None:
        filters["updated_since"] = args.updated_since
    return filters


def main(argv: list[str] | None = None) -> int:
    """The command line; returns the exit code (see the module's docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    token = os.environ.get(args.token_env)
    if not token:
        parser.error(f"the environment variable {args.token_env} is empty or not set")
    if not args.out.parent.is_dir():
        parser.error(f"--out: the directory {args.out.parent} does not exist")
    request = ExportRequest(
        out=args.out,
        format=args.format,
        ambassador=args.ambassador,
        filters=parse_filters(parser, args),
        sort=args.sort,
        per_page=args.per_page,
    )
    try:
        client = PlatformApiClient(args.base_url, token, timeout=args.timeout)
    except ValueError as exc:
        parser.error(f"--base-url: {exc}")
    bar = tqdm(total=0, unit=" orders", disable=True if args.quiet else None, file=sys.stderr)

    def progress(written: int, ahead: int) -> None:
        if ahead:
            bar.total = (bar.total or 0) + ahead
            bar.refresh()
        if written:
            bar.update(written)

    try:
        summary = run_export(client, request, resume=args.resume, progress=progress)
    except ResumeError as exc:
        return _fail(EXIT_RESUME, str(exc))
    except (Unauthorized, Forbidden) as exc:
        return _fail(EXIT_AUTH, str(exc))
    except NotFound as exc:
        return _fail(EXIT_NOT_FOUND, str(exc))
    except InvalidQuery as exc:
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
        return _fail(EXIT_INVALID_QUERY, f"{exc}{' — ' + details if details else ''}")
    except Unavailable as exc:
        return _fail(EXIT_UNAVAILABLE, f"{exc}; run again with --resume to continue")
    except PlatformApiError as exc:
        return _fail(EXIT_UNEXPECTED, str(exc))
    except OSError as exc:
        # The output or its state cannot be written: a directory, no permission, disk full.
        where = exc.filename or args.out
        return _fail(EXIT_USAGE, f"cannot write {where}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        return _fail(EXIT_INTERRUPTED, "interrupted; run again with --resume to continue")
    finally:
        bar.close()
    if not args.quiet:
        if summary.started:
            print(f"next incremental run: --updated-since {summary.started}", file=sys.stderr)
        print(
            f"{summary.orders} orders, {summary.lines} lines"
            f"{f' of {summary.ambassadors} ambassadors' if args.all_ambassadors else ''}"
            f" in {summary.seconds:.1f} s, {summary.retries} retries"
            f"{' (resumed)' if summary.resumed else ''} -> {args.out}",
            file=sys.stderr,
        )
    return EXIT_OK


def _fail(code: int, message: str) -> int:
    print(f"platform-api: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
