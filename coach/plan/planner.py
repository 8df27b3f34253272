"""Today's plan from the person's own records (pure: the time is passed in).

``plan_for(records, rules)`` checks, in order: a lock from the safety questions or
the profile's advice (nothing planned), a flare-up (cold, then heat), then the
pain-monitoring dose ladder, which the recent sessions, morning reports,
safety-question outcomes and a two-week rise in pain can only hold or lower.
Every number comes from ``content/progression.yaml`` (``coach.plan.rules``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from coach.plan.judge import Verdict, judge, rising_pain
from coach.plan.rules import Rules
from coach.store.history import Lock, TriageRecord
from coach.store.records import MorningReport, SessionRecord

DOSES: tuple[str, ...] = ("low", "mid", "high")


@dataclass(frozen=True)
class Records:
    """What the planner reads: plain records gathered by the caller, and the time."""

    now: datetime                                   # aware
    sessions: Sequence[SessionRecord] = ()          # oldest first
    mornings: Sequence[MorningReport] = ()
    outcomes: Sequence[TriageRecord] = ()
    locks: Sequence[Lock] = ()                      # active locks (exercise, today ...)
    profile_blocks: Sequence[str] = ()              # the profile's advice against a programme
    routines: Mapping[str, str] | None = None       # known routine ids -> names (None: trust the history)


@dataclass(frozen=True)
class Plan:
    routine: str | None
    dose: str | None
    reasons: tuple[str, ...]
    exercise_allowed: bool
    see_clinician: bool = False

    def as_json(self) -> dict[str, object]:
        return {"routine": self.routine, "dose": self.dose, "reasons": list(self.reasons),
                "exercise_allowed": self.exercise_allowed}


@dataclass
class _Draft:
    routine: str
    dose: str
    reasons: list[str] = field(default_factory=list)
    clinician: list[str] = field(default_factory=list)


def plan_for(records: Records, rules: Rules) -> Plan:
    blocked = _blocked(records, rules)
    if blocked is not None:
        return blocked
    clinician = _clinician_reasons(records, rules)
    draft = _flare_up(records, rules) or _ladder(records, rules)
    draft.clinician[:0] = clinician
    reasons = (*draft.reasons, *draft.clinician, rules.notice)
    return Plan(draft.routine, draft.dose, reasons, True, bool(draft.clinician))


def _blocked(records: Records, rules: Rules) -> Plan | None:
    """A lock that stops all exercise, then the profile's advice (like ``exercise_gate``)."""
    lock_rule = rules["safety_lock"]
    for lock in records.locks:
        if lock.kind in ("exercise", "today") and (lock.until is None or datetime.fromisoformat(lock.until) > records.now):
            key = "locked_today" if lock.kind == "today" else "locked_exercise"
            clinician = _clinician_reasons(records, rules)
            return Plan(None, None, (lock_rule.text(key), *clinician, rules.notice), False, bool(clinician))
    if records.profile_blocks:
        return Plan(None, None, (rules["profile"].text("blocked"), *records.profile_blocks, rules.notice), False)
    return None


def _clinician_reasons(records: Records, rules: Rules) -> list[str]:
    rule = rules["after_safety_questions"]
    since = records.now - timedelta(days=rule["see_clinician_days"])
    advised = [o for o in records.outcomes if o.outcome in rule.outcomes["see_clinician"]
               and since <= datetime.fromisoformat(o.at) <= records.now]
    if not advised:
        return []
    latest = max(advised, key=lambda o: o.at)
    return [rule.text("see_clinician", date=_day_text(datetime.fromisoformat(latest.at).date()))]


# -- flare-up: cold, then heat ------------------------------------------------------------

def _flare_up(records: Records, rules: Rules) -> _Draft | None:
    start, latest, pain = _flare_window(records, rules)
    if start is None or _settled_at(records, rules, start, latest) is not None:
        return None
    rule = rules["flare_up"]
    hours = (records.now - start).total_seconds() / 3600
    if hours < rule["cold_hours"]:
        draft = _Draft(rules.routines["cold"], "low", [rule.text("cold", pain=pain, date=_day_text(start.date()))])
    else:
        draft = _Draft(rules.routines["heat"], "low", [rule.text("heat", date=_day_text(start.date()))])
    days = (records.now.date() - start.date()).days
    if days >= rule["not_improved_days"]:
        draft.clinician.append(rule.text("not_improved", days=days))
    return draft


def _flare_window(records: Records, rules: Rules) -> tuple[datetime | None, datetime | None, int]:
    """The first and last severe rating of the latest flare-up, and its worst rating."""
    rule = rules["flare_up"]
    start = latest = None
    worst = 0
    for s in _until_now(records):
        pain = max((p for p in (s.pain_before, s.pain_after) if p is not None), default=None)
        if pain is None or pain < rule["severe_pain"]:
            continue
        at = datetime.fromisoformat(s.started_at)
        if latest is None or (at.date() - latest.date()).days > rule["same_flare_up_days"]:
            start, worst = at, 0
        latest, worst = at, max(worst, pain)
    return start, latest, worst


def _settled_at(records: Records, rules: Rules, start: datetime, latest: datetime | None) -> datetime | None:
    """When the flare-up was over: after its cold hours, a later "usual" morning or a low rating."""
    rule = rules["flare_up"]
    earliest = start + timedelta(hours=rule["cold_hours"])
    signs = [datetime.fromisoformat(m.at) for m in records.mornings
             if m.answer == "usual" and latest is not None and date.fromisoformat(m.day) > latest.date()]
    signs += [datetime.fromisoformat(s.started_at) for s in _until_now(records)
              if s.pain_before is not None and s.pain_before <= rule["settled_pain_max"]
              and latest is not None and datetime.fromisoformat(s.started_at) > latest]
    signs = [at for at in signs if earliest <= at <= records.now]
    return min(signs) if signs else None


# -- the dose ladder ------------------------------------------------------------------------

def _ladder(records: Records, rules: Rules) -> _Draft:
    pm = rules["pain_monitoring"]
    start, latest_flare, _ = _flare_window(records, rules)
    reset = _settled_at(records, rules, start, latest_flare) if start is not None else None
    exercise = [s for s in _until_now(records) if s.routine_id and s.routine_id not in rules.self_care_routines
                and (reset is None or datetime.fromisoformat(s.started_at) >= reset)]
    if not exercise:
        if reset is not None:
            return _Draft(rules.routines["after_flare_up"], "low", [rules["flare_up"].text("after")])
        default = rules.routines["default"]
        name = (records.routines or {}).get(default, default)
        return _Draft(default, "low", [pm.text("start", routine=f"the {name[:1].lower()}{name[1:]}")])
    draft = _base(records, rules, exercise)
    _caps(records, rules, draft, exercise)
    return draft


def _base(records: Records, rules: Rules, exercise: list[SessionRecord]) -> _Draft:
    pm = rules["pain_monitoring"]
    latest = exercise[-1]
    routine = latest.routine_id or rules.routines["default"]
    if records.routines is not None and routine not in records.routines:
        routine = rules.routines["default"]
    dose = latest.dose if latest.dose in DOSES else "low"
    gap = (records.now.date() - latest.day).days
    if gap >= pm["break_days"]:
        return _Draft(routine, "low", [pm.text("break", days=gap)])
    verdict = judge(latest, pm)
    if verdict.kind == "bad":
        if dose == "low":
            return _Draft(rules.routines["default"], "low", [pm.text("regress_routine", why=verdict.why)])
        return _Draft(routine, _step(dose, -1), [pm.text("regress", why=verdict.why, new_dose=_step(dose, -1))])
    if verdict.kind == "missing":
        return _Draft(routine, dose, [pm.text("missing", what=verdict.why, dose=dose)])
    if verdict.kind == "stopped":
        return _Draft(routine, dose, [pm.text("stopped", dose=dose)])
    needed = int(pm["sessions_to_progress"])
    streak = _streak(exercise, routine, dose, pm)
    if streak < needed:
        return _Draft(routine, dose, [pm.text("building", count=streak, dose=dose, needed=needed)])
    if dose == DOSES[-1]:
        return _Draft(routine, dose, [pm.text("top", count=streak)])
    new = _step(dose, +1)
    return _Draft(routine, new, [pm.text("progress", count=streak, dose=dose, new_dose=new,
                                         max_pain=int(pm["acceptable_pain_max"]), rise=int(pm["rise_points"]))])


def _streak(exercise: list[SessionRecord], routine: str, dose: str, pm) -> int:
    count = 0
    for s in reversed([s for s in exercise if s.routine_id == routine]):
        if (s.dose if s.dose in DOSES else "low") != dose or judge(s, pm).kind != "ok":
            break
        count += 1
    return count


def _caps(records: Records, rules: Rules, draft: _Draft, exercise: list[SessionRecord]) -> None:
    """Recent bad sessions, worse mornings, safety questions and rising pain hold or lower the dose."""
    pm, after = rules["pain_monitoring"], rules["after_safety_questions"]
    latest_dose = exercise[-1].dose if exercise[-1].dose in DOSES else "low"
    caps: list[tuple[str, str]] = []
    window = records.now - timedelta(hours=48)
    for s in _until_now(records):
        if s is exercise[-1]:
            continue                # the ladder itself already stepped down for it
        verdict = judge(s, pm)
        if verdict.kind == "bad" and datetime.fromisoformat(s.started_at) >= window:
            dose = s.dose if s.dose in DOSES else "low"
            caps.append((_step(dose, -1), pm.text("recent", why=verdict.why, dose=_step(dose, -1))))
    yesterday = records.now.date() - timedelta(days=1)
    worse = [m for m in records.mornings if m.answer == "worse" and yesterday <= date.fromisoformat(m.day) <= records.now.date()]
    if worse:
        caps.append((latest_dose, pm.text("morning", date=_day_text(date.fromisoformat(worse[-1].day)))))
    hold_since = records.now - timedelta(hours=after["hold_hours"])
    held = [o for o in records.outcomes if o.outcome not in after.outcomes["carry_on"]
            and hold_since <= datetime.fromisoformat(o.at) <= records.now]
    if held:
        caps.append((latest_dose, after.text("hold", date=_day_text(datetime.fromisoformat(max(o.at for o in held)).date()))))
    rise = rising_pain(records.sessions, records.now.date(), rules["rising_pain"])
    if rise is not None:
        draft.clinician.append(rules["rising_pain"].text("see_clinician", before=rise[0], after=rise[1]))
        caps.append((_step(min(draft.dose, latest_dose, key=DOSES.index), -1), ""))
    capped = min((dose for dose, _ in caps), key=DOSES.index, default=draft.dose)
    if DOSES.index(capped) < DOSES.index(draft.dose):
        draft.reasons.clear()       # the caps say why; the ladder's own step no longer holds
        draft.dose = capped
    draft.reasons.extend(text for _, text in caps if text)


def _until_now(records: Records) -> list[SessionRecord]:
    return [s for s in records.sessions if datetime.fromisoformat(s.started_at) <= records.now]


def _step(dose: str, by: int) -> str:
    return DOSES[max(0, min(len(DOSES) - 1, DOSES.index(dose) + by))]


def _day_text(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


__all__ = ["DOSES", "Plan", "Records", "Verdict", "plan_for"]
