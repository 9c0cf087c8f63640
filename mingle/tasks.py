"""Background tasks that cannot die unseen. Standard library only: the gateway (``edge``) and
the pipeline (``pipeline.live``) both use it, and share nothing else but the wire package.

``asyncio.create_task`` keeps a task's exception until someone asks for it, so a background
task that nobody awaits until shutdown dies silently and the program runs on without it: a
gateway that scans but no longer publishes, a demo whose virtual gateways went quiet.

A :class:`Crew` starts named tasks meant to run until one shared ``stop`` event. The moment
one of them ends before ``stop`` (with an exception, or without one: either way it is gone),
it is logged at ERROR with the task's name and the traceback, and ``stop`` is set, so the
whole program winds down the way SIGTERM makes it (the others finish their work and say
``offline``); the caller then sees :attr:`Crew.died` and exits non-zero, which a supervisor
(systemd's ``Restart=on-failure``) turns into a restart. ``asyncio.TaskGroup`` would cancel
the others instead, and a cancelled gateway bridge publishes no ``offline`` status.

Exceptions: :class:`TaskDiedError` (a ``RuntimeError``), raised by :meth:`Crew.check` for a
caller that reports failure by raising rather than by an exit code.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

__all__ = ["Crew", "TaskDiedError"]


class TaskDiedError(RuntimeError):
    """A background task ended before the stop; the message names it (the log has the traceback)."""


class Crew:
    """Named background tasks sharing ``stop``; the first to end early sets it (logged to ``log``)."""

    def __init__(self, stop: asyncio.Event, log: logging.Logger) -> None:
        self.stop = stop
        self.log = log
        self.tasks: list[asyncio.Task[Any]] = []
        #: Names of the tasks that ended before the stop, in the order they did.
        self.died: list[str] = []

    def start(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run ``coro`` as a task called ``name`` (the name the log gives if it dies)."""
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(self._ended)
        self.tasks.append(task)
        return task

    def _ended(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()  # (retrieved here, so asyncio never reports it again at exit)
        if exc is None and self.stop.is_set():
            return  # its job was done: the stop came first
        self.died.append(task.get_name())
        if exc is None:
            self.log.error("%s ended before the stop; stopping", task.get_name())
        else:
            self.log.error("%s died: %s: %s; stopping", task.get_name(), type(exc).__name__, exc, exc_info=exc)
        self.stop.set()

    async def join(self) -> None:
        """Wait until every task has ended (set ``stop`` first); their failures are logged already."""
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def check(self) -> None:
        """Raise :class:`TaskDiedError` naming the tasks that ended before the stop, if any did."""
        if self.died:
            raise TaskDiedError(f"{', '.join(self.died)} died (the log has why); stopped")
