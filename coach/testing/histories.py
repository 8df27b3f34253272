"""Histories written through the real store with a controlled wall clock: a realistic
three weeks for the README's plot and for tests of plots, summaries and exports."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from coach.store.history import History
from coach.store.records import add_morning_report

ROUTINES = ("gentle-floor", "desk-break", "gentle-floor", "standing-mobility")


class SteppedClock:
    """A wall clock that stays where it is set."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def three_weeks(path: Path, first_day: date = date(2026, 11, 9), seed: int = 7) -> Path:
    """21 days: pain easing from about 6 to about 3, most days one session (some two, some
    none), mornings mostly as usual, one session stopped early, two sets of safety
    questions (carry on, then no more exercise that day)."""
    rng = random.Random(seed)
    tz = timezone(timedelta(hours=1))
    clock = SteppedClock(datetime.combine(first_day, time(8), tzinfo=tz))
    with History(path, clock) as history:
        history.set_profile({"flag.red_flag_history": "no", "dose": "low"})
        n = 0
        for offset in range(21):
            day = first_day + timedelta(days=offset)
            level = 6.2 - 3.0 * offset / 20
            if offset:
                clock.now = datetime.combine(day, time(7, 40), tzinfo=tz)
                add_morning_report(history, "worse" if rng.random() < 0.25 - offset / 120 else "usual")
            if offset in (5, 13):
                continue                       # rest days
            for slot in ((8, 10), (18, 30))[: 2 if offset % 6 == 3 else 1]:
                n += 1
                clock.now = datetime.combine(day, time(*slot), tzinfo=tz)
                _session(history, clock, f"s{n:03d}", level, rng, offset)
    return path


def _session(history: History, clock: SteppedClock, sid: str, level: float, rng: random.Random, offset: int) -> None:
    before = max(0, min(10, round(level + rng.uniform(-1.0, 1.0))))
    history.start_session(sid, ROUTINES[offset % len(ROUTINES)], "low" if offset < 10 else "mid")
    history.add_pain_rating(before, "baseline", sid)
    clock.now += timedelta(minutes=rng.randint(9, 14))
    if offset in (8, 16):
        _triage(history, clock, sid, offset)
        return
    if offset == 11:
        history.end_session(sid, "stopped")
        return
    after = max(0, before - rng.choice((0, 1, 1, 2)))
    history.add_pain_rating(after, "after", sid)
    history.end_session(sid, "completed")


def _triage(history: History, clock: SteppedClock, sid: str, offset: int) -> None:
    tid = f"t{offset:02d}"
    history.start_triage(tid, sid, "knee-to-chest", "voice", "full")
    for question, answer in (("S1", "no"), ("A1", "no"), ("A4", "no")):
        clock.now += timedelta(seconds=6)
        history.add_triage_answer(tid, question, "first", answer, None, 0.91, answer)
    clock.now += timedelta(seconds=6)
    history.add_triage_answer(tid, "S2", "first", "number", 5, 0.88, "five")
    outcome, action = ("c", "continue") if offset == 8 else ("b1", "end-today")
    history.finish_triage(tid, outcome, action, ("pain-rose",), True, "full", sid, "knee-to-chest")
    clock.now += timedelta(minutes=3)
    if outcome == "c":
        history.add_pain_rating(4, "after", sid)
        history.end_session(sid, "completed")
    else:
        history.end_session(sid, "triage-end-today")
