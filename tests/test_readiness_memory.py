"""A recompute batch and Python's garbage collector: the batch leaves no reference cycles behind (which
would keep a whole batch's results alive until a full collection), and the collector is paused while a
batch runs and back on afterwards."""

import gc
import threading
import types

import pytest

from pilots import checks, gcpause
from pilots.services import readiness
from tests import factories


def _garbage_of(run) -> list:
    """The objects that only the cycle collector could free after `run()`."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        run()
        gc.collect()
        return list(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()


def test_a_recompute_leaves_no_cycle_holding_its_frames_or_results(team):
    ids = [team.pilot.pk] + [factories.PilotFactory(workspace=team.workspace).pk for _ in range(3)]
    readiness.recompute(pilot_ids=ids)  # warm: caches, first snapshots
    garbage = _garbage_of(lambda: readiness.recompute(pilot_ids=ids))
    held = [o for o in garbage if isinstance(o, types.FrameType | checks.Result | checks.Evidence)]
    assert held == [], f"{len(garbage)} objects in cycles, among them {held[:5]}"


def test_the_collector_is_paused_during_a_batch_and_back_after(team, monkeypatch):
    seen = []
    batch = readiness._recompute_batch
    monkeypatch.setattr(
        readiness, "_recompute_batch", lambda ids, now: seen.append(gc.isenabled()) or batch(ids, now=now)
    )
    assert gc.isenabled()
    readiness.recompute(pilot_ids=[team.pilot.pk])
    assert seen == [False] and gc.isenabled()
    with pytest.raises(RuntimeError), gcpause.paused():
        raise RuntimeError("the batch failed")
    assert gc.isenabled()  # back on after a failure too


def test_nested_and_concurrent_pauses_end_with_the_last_one():
    entered, leave = threading.Event(), threading.Event()

    def other():
        with gcpause.paused():
            entered.set()
            leave.wait(5)

    thread = threading.Thread(target=other)
    with gcpause.paused():
        thread.start()
        entered.wait(5)
    assert not gc.isenabled()  # the other thread's pause still runs
    leave.set()
    thread.join(5)
    assert gc.isenabled()


def test_a_pause_leaves_a_collector_that_was_off_off():
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
