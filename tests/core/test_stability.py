"""The watcher's pure timing rules: when a watched file has stayed the same long
enough. What a due file then gets (take, wait, drop) is tested in test_ready.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.ready import Observation
from pipeline.core.stability import Tracker

A, B, C = Path("/in/a.docx"), Path("/in/b.docx"), Path("/in/c.docx")


def obs(size: int, mtime: int = 1) -> Observation:
    return Observation(size, mtime)


def test_a_file_is_due_only_after_the_delay_unchanged() -> None:
    t = Tracker(3.0)
    t.observe(A, obs(10), 100.0)
    assert t.due(100.0) == []
    t.observe(A, obs(10), 102.9)
    assert t.due(102.9) == []
    t.observe(A, obs(10), 103.0)
    assert t.due(103.0) == [A]


def test_a_change_restarts_the_clock() -> None:
    t = Tracker(3.0)
    t.observe(A, obs(10), 100.0)
    t.observe(A, obs(20), 102.0)
    assert t.due(104.0) == []
    assert t.due(105.0) == [A]
    # mtime alone changing (same size, rewritten in place) also counts
    t.observe(A, obs(20, mtime=2), 105.0)
    assert t.due(107.0) == []


def test_a_file_that_keeps_growing_stays_pending_for_ever() -> None:
    t = Tracker(3.0)
    now = 0.0
    for size in range(1, 10_000):  # ~2.8 hours of a write every second
        now += 1.0
        t.observe(A, obs(size), now)
        assert t.due(now) == []
    assert A in t and t.stable_for(A, now) == 0.0


def test_a_vanished_file_is_dropped() -> None:
    t = Tracker(3.0)
    t.observe(A, obs(10), 100.0)
    t.observe(A, None, 101.0)
    assert A not in t
    assert t.due(200.0) == []
    t.observe(B, None, 101.0)  # never seen and gone: nothing to do
    assert len(t) == 0


def test_due_in_order_of_arrival_and_forget() -> None:
    t = Tracker(1.0)
    t.observe(C, obs(1), 10.0)
    t.observe(A, obs(1), 11.0)
    t.observe(B, obs(1), 12.0)
    t.observe(C, obs(2), 12.0)  # changed later but arrived first
    assert t.due(20.0) == [C, A, B]
    t.forget(A)
    assert t.due(20.0) == [C, B]


def test_hold_delays_until_time_or_change() -> None:
    t = Tracker(1.0)
    t.observe(A, obs(1), 0.0)
    t.hold(A, 60.0)
    assert t.due(30.0) == []
    assert t.due(60.0) == [A]
    t.hold(A, 120.0)
    t.observe(A, obs(2), 61.0)  # a new version is looked at afresh
    assert t.due(62.0) == [A]
    t.hold(B, 99.0)  # holding an unknown path does not create it
    assert B not in t


def test_settling_and_next_event() -> None:
    t = Tracker(3.0)
    assert t.next_event_in(0.0) is None
    t.observe(A, obs(1), 0.0)
    t.observe(B, obs(1), 2.0)
    assert set(t.settling(2.5)) == {A, B}
    assert t.settling(4.0) == [B]
    assert t.next_event_in(2.0) == pytest.approx(1.0)
    assert t.next_event_in(10.0) == 0.0


def test_negative_delay_is_refused() -> None:
    with pytest.raises(ValueError):
        Tracker(-1)

