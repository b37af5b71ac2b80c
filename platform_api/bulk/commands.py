"""The shared shape of the `import_*` and `export_*` management commands (thin: services work).

Import exit status: 0 every record landed, 1 some were rejected (see the rejects file), 2 the input
could not be read at all, 3 stopped before the end (the database connection or the reading process
lost), 130 interrupted (batches committed before the stop or the interrupt stay).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from platform_api.bulk.batches import (
    ReadingLost,
    Rejected,
    Source,
    Totals,
    Unusable,
    first_line,
    read_json_lines,
)
from platform_api.bulk.progress import Reporter
from platform_api.errors import is_database_unavailable

# A batch's fixed costs (its commit, staging tables, the counters of ~2000 ambassadors) are
# spread over more orders: 5000 loaded 50,000 orders ~13% faster than 2000 (bench/RESULTS.md).
DEFAULT_BATCH_SIZE = 5000
EXIT_REJECTED = 1
EXIT_UNREADABLE = 2
EXIT_STOPPED = 3
EXIT_INTERRUPTED = 130


class _Committed:
    """A Reporter that also remembers the last committed totals (for the interrupted summary)."""

    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.last = Totals()

    def rejected(self, item: Rejected) -> None:
        self.reporter.rejected(item)

    def committed(self, totals: Totals) -> None:
        self.last = dataclasses.replace(totals)
        self.reporter.committed(totals)


class ImportCommand(BaseCommand):
    """`manage.py import_<what> FILE|- [--rejects FILE] [--quiet] [--batch-size N]`."""

    what = "records"
    formats: tuple[str, ...] = ("jsonl",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The file to import, or - for standard input.")
        parser.add_argument(
            "--rejects",
            metavar="FILE",
            help="Write each rejected record here (JSON Lines: line, reason, record).",
        )
        parser.add_argument("--quiet", action="store_true", help="No progress and no summary.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Records per transaction (default {DEFAULT_BATCH_SIZE}).",
        )
        if len(self.formats) > 1:
            parser.add_argument(
                "--format",
                choices=self.formats,
                help="Input format (default: from the file name's extension, else jsonl).",
            )

    def read(self, stream: IO[bytes], fmt: str) -> Iterable[Source | Rejected]:
        """Decoded records of the input; entities with more formats override it."""
        return read_json_lines(stream)

    def land(self, sources: Iterable[Source | Rejected], batch_size: int, listener: Any) -> Totals:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1", returncode=EXIT_UNREADABLE)
        fmt = options.get("format") or _format_of(options["file"], self.formats)
        with ExitStack() as stack:
            stream = self._open(options["file"], stack)
            rejects = self._open_rejects(options["rejects"], options["file"], stack)
            reporter = Reporter(
                label=f"import {self.what}", err=sys.stderr, rejects=rejects, quiet=options["quiet"]
            )
            listener = _Committed(reporter)
            try:
                totals = self.land(self.read(stream, fmt), options["batch_size"], listener)
            except KeyboardInterrupt:
                self.stderr.write(reporter.close(listener.last, interrupted=True))
                raise SystemExit(EXIT_INTERRUPTED) from None
            except Unusable as exc:  # not one record's fault: a CSV header
                reporter.close(listener.last)
                raise CommandError(str(exc), returncode=EXIT_UNREADABLE) from exc
            except (DatabaseError, ReadingLost) as exc:  # the server or the reader gone mid-run
                if isinstance(exc, DatabaseError) and not is_database_unavailable(exc):
                    raise  # a refused statement (a missing migration...): a bug, not a retry
                self.stderr.write(reporter.close(listener.last, stopped=first_line(exc)))
                raise SystemExit(EXIT_STOPPED) from None
            summary = reporter.close(totals)
        if not options["quiet"]:
            self.stdout.write(summary)
        if totals.rejected:
            raise SystemExit(EXIT_REJECTED)

    def _open(self, name: str, stack: ExitStack) -> IO[bytes]:
        if name == "-":
            return sys.stdin.buffer
        try:
            return stack.enter_context(Path(name).open("rb"))
        except OSError as exc:
            raise CommandError(
                f"cannot read {name}: {exc.strerror}", returncode=EXIT_UNREADABLE
            ) from exc

    def _open_rejects(self, name: str | None, source: str, stack: ExitStack) -> IO[bytes] | None:
        if name is None:
            return None
        path = Path(name)
        if source != "-" and path.exists() and path.samefile(source):
            raise CommandError(
                f"--rejects {name} is the input file: it would be emptied before it is read",
                returncode=EXIT_UNREADABLE,
            )
        try:
            return stack.enter_context(path.open("wb"))
        except OSError as exc:
            raise CommandError(
                f"cannot write the rejects file {name}: {exc.strerror}", returncode=EXIT_UNREADABLE
            ) from exc


def _format_of(name: str, formats: tuple[str, ...]) -> str:
    suffix = Path(name).suffix.lstrip(".").lower()
    return suffix if suffix in formats else formats[0]


class ExportCommand(BaseCommand):
    """`manage.py export_<what> --out FILE|-`: written to FILE.partial, renamed when complete.

    Exit status: 0 written, 2 nothing could be (the output cannot be written, standard output
    closed before the end, or an option names nothing that exists), 130 interrupted (FILE is
    then not written at all).
    """

    what = "records"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out", required=True, metavar="FILE", help="Output file, or - for standard output."
        )

    def check_options(self, options: dict[str, Any]) -> None:
        """Raise CommandError when an option names nothing that exists (before any output)."""

    def write(self, out: IO[bytes], options: dict[str, Any]) -> int:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        self.check_options(options)
        target = options["out"]
        try:
            if target == "-":
                self._to_stdout(options)
            else:
                self._to_file(target, options)
        except KeyboardInterrupt:
            written = (
                "standard output has a part of it" if target == "-" else f"{target} not written"
            )
            self.stderr.write(f"export {self.what}: interrupted, {written}")
            raise SystemExit(EXIT_INTERRUPTED) from None

    def _to_file(self, target: str, options: dict[str, Any]) -> None:
        if Path(target).is_dir():
            raise CommandError(
                f"cannot write {target}: it is a directory", returncode=EXIT_UNREADABLE
            )
        partial = Path(f"{target}.partial")
        try:
            with partial.open("wb") as out:
                count = self.write(out, options)
            os.replace(partial, target)
        except OSError as exc:  # a missing directory, no permission, a full disk
            partial.unlink(missing_ok=True)
            raise CommandError(
                f"cannot write {target}: {exc.strerror or exc}", returncode=EXIT_UNREADABLE
            ) from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        self.stdout.write(f"exported {count} {self.what} to {target}")

    def _to_stdout(self, options: dict[str, Any]) -> None:
        try:
            count = self.write(sys.stdout.buffer, options)
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            # The reader went away (`| head`, a consumer that died). Standard output now points
            # at /dev/null, so that the interpreter's own flush at exit does not fail again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
            raise CommandError(
                f"export {self.what}: standard output was closed before the export finished",
                returncode=EXIT_UNREADABLE,
            ) from None
        self.stderr.write(f"exported {count} {self.what}")
