"""A replay's ingest, run a few ticks ahead in a second process.

A replay on one core pays, every second of the recording, for reading and decompressing
it, parsing its JSON, validating every reading and mapping ids to indices (at 500 attendees
about a quarter of the replay's time), and then for the tick. Neither waits on the other:
:class:`ReadAhead` runs the first part in a child process — the recording's own clock
(:func:`~.replayclock.tick_batches`), and an :class:`~.ingest.Ingest` built from the same
venue and roster as the pipeline's (:func:`~.ingest.venue_ingest`) — and hands each tick's
drain to the parent, which runs :func:`~.step.run_tick` on it: the drain ``step`` would have
made, so the frames and alerts are the same, byte for byte.

* The child's badge index grows as the parent's would have; each tick's new ids come with
  its drain and the parent adds them to its own (and checks it numbers them alike).
* What the ingest logs (rejections, rate-limited) is logged by the parent, in order; its
  counts become the parent's ingest's at the end (:meth:`~.ingest.Ingest.tally`).
* An error in the child (an unreadable file, a line that is no recording entry) is raised
  in the parent as it was raised; a child that dies is an error too.
* At most ``depth`` ticks wait between the two (a bounded queue): memory stays bounded
  when the ticks are the slower part.

The child is forked (not spawned: a spawned child would import the caller's ``__main__``
again) before the pipeline's state, and the threads its compiled loops may start, exist.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import queue
import traceback
from collections.abc import Iterable, Iterator
from logging.handlers import QueueHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from mingle_wire import read_recording

from .ingest import venue_ingest
from .replayclock import tick_batches

if TYPE_CHECKING:
    from .step import PipelineState, TickResult
    from .venue import Venue

__all__ = ["DEPTH", "ReadAhead"]

DEPTH = 8  # ticks the child may read ahead of the ticks
_POLL_S = 0.5  # how often a parent waiting on the child checks that it still runs


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
        depth: int = DEPTH,
    ) -> None:
        if not tick_s > 0:
            raise ValueError(f"tick_s must be > 0 seconds, got {tick_s!r}")
        if depth < 1:
            raise ValueError(f"depth must be >= 1 tick, got {depth!r}")
        ctx = multiprocessing.get_context("fork")
        self._queue: multiprocessing.Queue[tuple[Any, ...]] = ctx.Queue(maxsize=depth)
        self.process = ctx.Process(
            target=_read,
            args=(Path(recording), venue, list(roster), tick_s, prefix, self._queue),
            name="mingle-read-ahead",
            daemon=True,
        )
        self.process.start()
        self._done = False

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
            item = self._next()
            kind = item[0]
            if kind == "tick":
                _, now, drained, new_ids, count = item
                for b in new_ids:
                    badges.get(b)
                if len(badges) != count:
                    raise RuntimeError(
                        f"the read-ahead numbers {count} badges and the pipeline {len(badges)}: "
                        "was the pipeline's state built for another venue or roster, or used before?"
                    )
                yield run_tick(state, drained, now)
            elif kind == "log":
                record: logging.LogRecord = item[1]
                logger = logging.getLogger(record.name)
                if logger.isEnabledFor(record.levelno):
                    logger.handle(record)
            elif kind == "end":
                state.ingest.take_tally(item[1])
                self._done = True
                return
            else:  # "error"
                self._done = True
                raise item[1]

    def _next(self) -> tuple[Any, ...]:
        while True:
            try:
                item: tuple[Any, ...] = self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                if self.process.is_alive():
                    continue
                try:  # (it may have put its last item just before it ended)
                    item = self._queue.get(timeout=_POLL_S)
                except queue.Empty:
                    raise RuntimeError(
                        f"the read-ahead process ended (exit code {self.process.exitcode}) before the recording did"
                    ) from None
            return item

    def close(self) -> None:
        """Stop the child (at once, if it has not finished) and release the queue."""
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout=10)
        self._queue.close()
        self._queue.cancel_join_thread()


class _Forward(QueueHandler):
    """Puts each log record, made picklable, on the parent's queue as ``("log", record)``
    (waiting for room: a log line is not dropped)."""

    def __init__(self, out: multiprocessing.Queue[tuple[Any, ...]]) -> None:
        super().__init__(out)
        self.out = out

    def enqueue(self, record: logging.LogRecord) -> None:
        self.out.put(("log", record))


def _read(
    recording: Path,
    venue: Venue,
    roster: list[str],
    tick_s: float,
    prefix: str,
    out: multiprocessing.Queue[tuple[Any, ...]],
) -> None:
    """The child: every tick's drain, with the badge ids new since the last, then the ingest's
    counts; or the error that stopped it."""
    root = logging.getLogger()
    root.handlers = [_Forward(out)]  # (a forked child holds its parent's handlers)
    try:
        from .allocator import collect_less

        collect_less()  # (a drain makes tens of thousands of small objects, all short-lived)
        ingest = venue_ingest(venue, roster, prefix=prefix)
        ids = ingest.badges.ids
        sent = len(ids)
        for now, messages in tick_batches(read_recording(recording, orjson.loads), tick_s):
            for topic, payload in messages:
                ingest.accept(topic, payload)
            drained = ingest.drain(now)
            out.put(("tick", now, drained, ids[sent:], len(ids)))
            sent = len(ids)
        out.put(("end", ingest.tally()))
    except BaseException as exc:
        try:
            pickle.dumps(exc)
        except Exception:
            exc = RuntimeError(f"the read-ahead process failed:\n{traceback.format_exc()}")
        out.put(("error", exc))
