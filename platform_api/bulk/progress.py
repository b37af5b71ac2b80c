"""What an import shows while it runs: a live line on a terminal, a log line per batch otherwise.

rich draws the terminal display (records, rate, rejects so far). Off a terminal (cron, a pipe)
each committed batch writes one plain line, "committed through line N …", which is also what an
operator reads to know how far an interrupted run got.
"""

from __future__ import annotations

import time
from typing import IO

from rich.console import Console
from rich.progress import Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.text import Text

from platform_api.bulk.batches import Rejected, Totals

# Without a rejects file, rejected records are echoed; past this many, only counted.
ECHOED_REJECTS = 20


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:,.0f} records/s")


class Reporter:
    """The import's listener: rejects to their file, progress to the operator."""

    def __init__(
        self,
        *,
        label: str,
        err: IO[str],
        rejects: IO[bytes] | None,
        quiet: bool,
        terminal: bool | None = None,
    ) -> None:
        self.label = label
        self.err = err
        self.rejects = rejects
        self.quiet = quiet
        self.echoed = 0
        self.started = time.monotonic()
        self.console = Console(file=err, force_terminal=terminal)
        self.live = not quiet and self.console.is_terminal
        self.progress: Progress | None = None
        if self.live:
            self.progress = Progress(
                TextColumn("{task.description}"),
                TextColumn("{task.completed:,} records"),
                _RateColumn(),
                TextColumn("{task.fields[rejected]:,} rejected"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.task = self.progress.add_task(label, total=None, rejected=0)
            self.progress.start()

    def rejected(self, item: Rejected) -> None:
        if self.rejects is not None:
            self.rejects.write(item.as_json() + b"\n")
        elif self.echoed < ECHOED_REJECTS and not self.quiet:
            self.echoed += 1
            self._say(f"rejected line {item.line}: {item.reason}")

    def committed(self, totals: Totals) -> None:
        if self.rejects is not None:
            self.rejects.flush()
        if self.progress is not None:
            self.progress.update(self.task, completed=totals.read, rejected=totals.rejected)
        elif not self.quiet:
            self._say(
                f"committed through line {totals.committed_through}: {totals.landed} landed "
                f"({totals.written} written), {totals.rejected} rejected, {self._rate(totals)}"
                f"{_how(totals)}"
            )

    def close(
        self, totals: Totals, *, interrupted: bool = False, stopped: str | None = None
    ) -> str:
        """Stop the display; the one-line summary (`stopped`: why the import could not go on)."""
        if self.progress is not None:
            self.progress.stop()
        state = "done"
        if interrupted:
            state = f"interrupted after line {totals.committed_through} (committed up to there)"
        elif stopped is not None:
            state = (
                f"stopped after line {totals.committed_through} (committed up to there; run the "
                f"same file again to finish): {stopped}"
            )
        return (
            f"{self.label}: {state}: {totals.read} read, {totals.landed} landed "
            f"({totals.written} written, {totals.landed - totals.written} unchanged), "
            f"{totals.rejected} rejected, {self._rate(totals)}{_how(totals)}"
        )

    def _rate(self, totals: Totals) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        return f"{totals.read / elapsed:,.0f} records/s"

    def _say(self, message: str) -> None:
        if self.progress is not None:
            self.progress.console.print(message, markup=False, highlight=False)
        else:
            self.err.write(message + "\n")
            self.err.flush()


def _how(totals: Totals) -> str:
    """How the importer checked the records (orders: with or without the row triggers)."""
    redone = f"; {totals.redone} batch(es) redone with the triggers" if totals.redone else ""
    return f" ({totals.note}{redone})" if totals.note or redone else ""
