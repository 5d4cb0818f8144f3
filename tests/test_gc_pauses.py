"""Large batches and Python's garbage collector (pilots.gcpause): a readiness batch and an API batch leave
no reference cycles behind (which would keep a whole batch alive until a full collection), the collector
is paused while they run and back on afterwards, and overlapping pauses cannot keep it off for good."""

import gc
import threading
import types

import pytest

from pilots import api_support, checks, gcpause
from pilots.models import Case
from pilots.services import intake, readiness
from tests import factories
from tests.api_helpers import api, case, keys, prepare

USES = (api, keys)  # the shared fixtures (tests/api_helpers.py)


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


def test_overlapping_pauses_still_collect_every_max_pause(monkeypatch):
    collections = []
    monkeypatch.setattr(gcpause.gc, "collect", lambda *a: collections.append(a) or 0)
    monkeypatch.setattr(gcpause, "MAX_PAUSE", 0.0)
    with gcpause.paused():
        with gcpause.paused():
            pass  # another pause still holds: past MAX_PAUSE, a collection runs now
        assert collections and not gc.isenabled()
    assert gc.isenabled()


def test_a_large_api_batch_runs_with_the_collector_paused_and_leaves_no_cycles(team, api, monkeypatch):
    prepare(team)
    seen = []
    real = intake.ingest
    monkeypatch.setattr(intake, "ingest", lambda **kw: seen.append(gc.isenabled()) or real(**kw))
    body = {"cases": [case(f"c{n}", amount=n) for n in range(300)]}
    monkeypatch.setattr(api_support, "LARGE_BODY", 1_000)
    response = api().post(f"/pilots/{team.pilot.pk}/cases/batch", body)
    assert response.status_code == 200 and response.json()["counts"] == {"created": 300}
    assert seen == [False] and gc.isenabled()

    again = {"cases": [case(f"d{n}", amount=n) for n in range(300)]}
    garbage = _garbage_of(lambda: api().post(f"/pilots/{team.pilot.pk}/cases/batch", again))
    assert Case.objects.filter(pilot=team.pilot).count() == 600
    frames = [o for o in garbage if isinstance(o, types.FrameType)]
    assert frames == [], f"frames kept by cycles: {[f.f_code.co_name for f in frames][:8]}"


def test_a_small_write_does_not_pause_the_collector(team, api, monkeypatch):
    prepare(team)
    seen = []
    real = intake.ingest
    monkeypatch.setattr(intake, "ingest", lambda **kw: seen.append(gc.isenabled()) or real(**kw))
    response = api().post(f"/pilots/{team.pilot.pk}/cases/batch", {"cases": [case("one")]})
    assert response.status_code == 200 and seen == [True]
