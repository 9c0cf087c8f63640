"""A replay's ingest, run a tick ahead in a second process.

A replay on one core pays, every second of the recording, for reading and decompressing
it, parsing its JSON, validating every reading and mapping ids to indices (at 500 attendees
about a quarter of the replay's time), and then for the tick. Neither waits on the other:
:class:`ReadAhead` runs the first part in a child process — the recording's own clock
(:func:`~.replayclock.tick_batches`), and an :class:`~.ingest.Ingest` built from the same
venue and roster as the pipeline's (:func:`~.ingest.venue_ingest`) — and hands each tick's
drain to the parent, which runs :func:`~.step.run_tick` on it: the drain ``step`` would have
made, so the frames and alerts are the same, byte for byte.

* The child's badge index grows as the parent's would have: it sends the ids it starts with,
  then each tick's new ids with its drain, and the parent adds them to its own and checks it
  numbers them alike.
* What the ingest logs (rejections, rate-limited) is logged by the parent, in order; its
  counts become the parent's ingest's at the end (:meth:`~.ingest.Ingest.tally`).
* An error in the child (an unreadable file, a line that is no recording entry) is raised in
  the parent as it was raised, with the child's traceback as a note; a child that dies, even
  in the middle of sending a drain, is an error too, never a hang.
* The two talk over a one-way pipe whose write end only the child holds: the child waits in
  ``send`` while the parent has not read the last drain (memory stays bounded when the ticks
  are the slower part), and a parent that dies ends the child at its next ``send`` (a broken
  pipe) instead of leaving it behind.

The child is forked (a spawned child would import the caller's ``__main__`` again), before
the pipeline's state is built; it uses none of the parent's threads (a process that ran
compiled loops on threads before holds idle workers). Where a platform cannot fork,
:func:`available` is false and a replay reads in its own process.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import traceback
import warnings
from collections.abc import Iterable, Iterator
from logging import LogRecord
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from mingle_wire import read_recording

from .ingest import venue_ingest
from .replayclock import tick_batches

if TYPE_CHECKING:
    from .step import PipelineState, TickResult
    from .venue import Venue

__all__ = ["ReadAhead", "available"]

_POLL_S = 0.5  # how often a parent waiting on the child checks that it still runs


def available() -> bool:
    """Whether this platform can fork a read-ahead child."""
    return "fork" in multiprocessing.get_all_start_methods()


class ReadAhead:
    """``recording`` read, decoded and validated in a child process, tick by tick on its own clock
    (every ``tick_s`` seconds), for a pipeline on ``venue`` and ``roster``. Iterate
    :meth:`ticks` once; :meth:`close` (or the ``with`` block) stops the child."""

    def __init__(
        self,
        recording: Path,
        venue: Venue,
        roster: Iterable[str],
        tick_s: float = 1.0,
        *,
        prefix: str = "mingle",
    ) -> None:
        if not tick_s > 0:
            raise ValueError(f"tick_s must be > 0 seconds, got {tick_s!r}")
        ctx = multiprocessing.get_context("fork")
        self._conn, child_end = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=_read,
            args=(Path(recording), venue, list(roster), tick_s, prefix, child_end, self._conn),
            name="mingle-read-ahead",
            daemon=True,
        )
        with warnings.catch_warnings():
            # (Python 3.12+ warns of forking a process that holds threads: the child uses none.)
            warnings.filterwarnings("ignore", message=r".*multi-threaded.*fork", category=DeprecationWarning)
            self.process.start()
        child_end.close()  # (only the child writes: a child gone mid-send is then end-of-file here)

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ticks(self, state: PipelineState) -> Iterator[TickResult]:
        """One tick of ``state`` per tick of the recording, each on the child's drain. ``state``
        must be new, on the venue, roster and prefix the child was given."""
        from .step import run_tick  # (the detection core: not loaded in the child)

        badges = state.badges
        while True:
            kind, *rest = self._next()
            if kind == "start":
                if list(badges.ids) != rest[0]:
                    raise RuntimeError(
                        "the read-ahead's ingest numbers badges other than the pipeline's: "
                        "was the pipeline's state built for another venue or roster, or used before?"
                    )
            elif kind == "tick":
                now, drained, new_ids = rest
                first = len(badges)
                for k, b in enumerate(new_ids):
                    if badges.get(b) != first + k:
                        raise RuntimeError(f"the pipeline numbers badge {b!r} otherwise than the read-ahead")
                yield run_tick(state, drained, now)
            elif kind == "log":
                record: LogRecord = rest[0]
                logger = logging.getLogger(record.name)
                if logger.isEnabledFor(record.levelno):
                    logger.handle(record)
            elif kind == "end":
                state.ingest.take_tally(rest[0])
                return
            else:  # "error"
                raise rest[0]

    def _next(self) -> tuple[Any, ...]:
        """The child's next message; ``RuntimeError`` if it ended without sending one."""
        while not self._conn.poll(_POLL_S):
            if not self.process.is_alive() and not self._conn.poll(0):
                break
        try:
            item: tuple[Any, ...] = self._conn.recv()
        except EOFError:  # (nothing more, or a message cut short: the child is gone)
            self.process.join(timeout=10)
            raise RuntimeError(
                f"the read-ahead process ended (exit code {self.process.exitcode}) before the recording did"
            ) from None
        return item

    def close(self) -> None:
        """Stop the child (at once, if it has not finished) and close the pipe."""
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout=10)
        self._conn.close()


class _Forward(logging.Handler):
    """Sends each log record, made picklable, to the parent as ``("log", record)``."""

    def __init__(self, out: Connection) -> None:
        super().__init__()
        self.out = out

    def emit(self, record: LogRecord) -> None:
        msg = self.format(record)  # (as QueueHandler.prepare does: the message resolved here)
        record.msg, record.args, record.exc_info, record.exc_text = msg, None, None, None
        self.out.send(("log", record))


def _read(
    recording: Path, venue: Venue, roster: list[str], tick_s: float, prefix: str, out: Connection, theirs: Connection
) -> None:
    """The child: the ids it starts with, every tick's drain with the badge ids new since the
    last, then the ingest's counts; or the error that stopped it. ``theirs``: the parent's end
    of the pipe, closed here at once (held open, a parent gone would never break the pipe)."""
    theirs.close()
    root = logging.getLogger()
    root.handlers = [_Forward(out)]  # (a forked child holds its parent's handlers)
    try:
        from .allocator import collect_less

        collect_less()  # (a drain makes tens of thousands of small objects, all short-lived)
        ingest = venue_ingest(venue, roster, prefix=prefix)
        ids = ingest.badges.ids
        out.send(("start", list(ids)))
        sent = len(ids)
        for now, messages in tick_batches(read_recording(recording, orjson.loads), tick_s):
            for topic, payload in messages:
                ingest.accept(topic, payload)
            drained = ingest.drain(now)
            out.send(("tick", now, drained, ids[sent:]))
            sent = len(ids)
        out.send(("end", ingest.tally()))
    except (BrokenPipeError, ConnectionResetError):
        return  # the parent is gone: nobody to tell
    except BaseException as exc:  # every other error goes to the parent
        exc = _portable(exc)
        try:
            out.send(("error", exc))
        except OSError:
            return
    finally:
        out.close()


def _portable(exc: BaseException) -> BaseException:
    """``exc`` with the child's traceback as a note, if it survives pickling both ways; else a
    ``RuntimeError`` with its text."""
    text = traceback.format_exc()
    try:
        exc.add_note(f"in the read-ahead process:\n{text}")
        back = pickle.loads(pickle.dumps(exc))
        if type(back) is type(exc):
            return exc
    except Exception:
        pass
    return RuntimeError(f"the read-ahead process failed:\n{text}")
