"""``mingle.tasks.Crew``: a background task that ends before the stop is logged and stops the rest."""

from __future__ import annotations

import asyncio
import logging

import pytest

from mingle.tasks import Crew, TaskDiedError

log = logging.getLogger("test.tasks")


async def until_stop(stop: asyncio.Event) -> None:
    await stop.wait()


def test_a_task_that_raises_is_logged_by_name_and_sets_stop(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> Crew:
        stop = asyncio.Event()
        crew = Crew(stop, log)
        crew.start(until_stop(stop), "waiter")

        async def broken() -> None:
            raise ValueError("bad value 7")

        crew.start(broken(), "worker")
        await asyncio.wait_for(stop.wait(), 1)
        await crew.join()
        return crew

    with caplog.at_level("ERROR", logger="test.tasks"):
        crew = asyncio.run(main())
    assert crew.died == ["worker"]
    [record] = caplog.records
    assert record.getMessage() == "worker died: ValueError: bad value 7; stopping" and record.exc_info
    with pytest.raises(TaskDiedError, match="worker died"):
        crew.check()


def test_an_early_return_is_a_death_a_return_after_the_stop_or_a_cancel_is_not(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> tuple[Crew, Crew]:
        stop = asyncio.Event()
        quiet = Crew(stop, log)
        quiet.start(until_stop(stop), "waiter")
        quiet.start(asyncio.sleep(10), "sleeper").cancel()
        await asyncio.sleep(0)
        stop.set()
        await quiet.join()
        early = Crew(asyncio.Event(), log)
        early.start(asyncio.sleep(0), "quitter")
        await asyncio.wait_for(early.stop.wait(), 1)
        await early.join()
        return quiet, early

    with caplog.at_level("ERROR", logger="test.tasks"):
        quiet, early = asyncio.run(main())
    quiet.check()
    assert quiet.died == [] and early.died == ["quitter"]
    assert [r.getMessage() for r in caplog.records] == ["quitter ended before the stop; stopping"]
