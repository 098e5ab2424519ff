"""The study's progress bar: rich, with time estimates; silent when disabled or not on a terminal."""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger("synthlink")


class Progress:
    """A rich progress bar with time estimates; silent when disabled or not on a terminal."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled and os.environ.get("SYNTHLINK_NO_PROGRESS") is None
        self.total = total
        self._p: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._p = Progress(TextColumn("{task.description:<40}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                               TimeElapsedColumn(), TimeRemainingColumn(), transient=False)
            self._p.__enter__()
            self._task = self._p.add_task("starting", total=self.total)
        return self

    def step(self, description: str) -> None:
        log.info("stage: %s", description)
        if self._p is not None:
            self._p.update(self._task, advance=1, description=description[:40])

    def __exit__(self, *exc: Any) -> None:
        if self._p is not None:
            self._p.update(self._task, description="done")
            self._p.__exit__(*exc)
