"""The weeks ahead as calendar events (iCalendar, RFC 5545), for phone reminders.

``project(records, rules, days)`` plans each coming day as if nothing new were
recorded (today's rules holding), keeping the articles' rhythm: a session every
``every_days`` days, cold or heat during a flare-up every ``flare_up_every_days``.
``to_ics(...)`` writes them with the icalendar library: summary = routine and dose,
description = the reasons (with the self-care notice), one stable UID per day, so
importing a newer file updates the events instead of doubling them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone

from icalendar import Alarm, Calendar, Event

from coach.plan.planner import Plan, Records, plan_for
from coach.plan.rules import Rules

PRODID = "-//coach//Today's plan//EN"
UID_DOMAIN = "coach.local"
REMINDER_MINUTES_BEFORE = 10


@dataclass(frozen=True)
class Day:
    day: date
    plan: Plan
    projected: bool          # after today: assumes today's rules hold


def project(records: Records, rules: Rules, days: int, at: time | None = None) -> list[Day]:
    """The planned days from today (the time in ``records.now``) for ``days`` days.

    An exercise plan repeats today's routine and dose; a flare-up or a lock is
    planned day by day, so cold turns to heat and a lock for today ends. Each later
    day is judged at its session time ``at`` (else at the time of day of now), so
    what a day's event says does not depend on when the file was written."""
    schedule = rules["schedule"]
    result: list[Day] = []
    due = 0
    today = plan_for(records, rules)
    exercising = today.routine is not None and today.routine not in rules.self_care_routines
    for offset in range(days):
        if exercising:
            plan = today        # no new ratings: the ladder holds (a gap in the records is not a break)
        else:
            when = records.now + timedelta(days=offset)
            if at is not None and offset > 0:
                when = datetime.combine(when.date(), at, tzinfo=records.now.tzinfo)
            plan = plan_for(replace(records, now=when), rules)
        if plan.routine is None or offset < due:
            continue
        result.append(Day(records.now.date() + timedelta(days=offset), plan, offset > 0))
        flare = plan.routine in rules.self_care_routines
        due = offset + int(schedule["flare_up_every_days" if flare else "every_days"])
    return result


def to_ics(days: Sequence[Day], rules: Rules, at: time, tz: timezone | object, stamp: datetime,
           names: Mapping[str, str], seconds: Mapping[str, float]) -> bytes:
    """The calendar file: events at ``at`` local time (``tz``), written in UTC."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Self-care plan")
    for item in days:
        calendar.add_component(_event(item, rules, at, tz, stamp, names, seconds))
    return calendar.to_ical()


def summary(plan: Plan, names: Mapping[str, str]) -> str:
    name = names.get(plan.routine or "", plan.routine or "")
    return f"{name} ({plan.dose} dose)" if plan.dose else name


def _event(item: Day, rules: Rules, at: time, tz: object, stamp: datetime,
           names: Mapping[str, str], seconds: Mapping[str, float]) -> Event:
    start = datetime.combine(item.day, at, tzinfo=tz).astimezone(timezone.utc)  # type: ignore[arg-type]
    minutes = max(5, -(-int(seconds.get(item.plan.routine or "", 900)) // 60))
    reasons = list(item.plan.reasons)
    if item.projected:
        reasons.insert(0, rules["schedule"].text("projection"))
    event = Event()
    event.add("uid", f"coach-plan-{item.day.isoformat()}@{UID_DOMAIN}")
    event.add("dtstamp", stamp.astimezone(timezone.utc))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=minutes))
    event.add("summary", summary(item.plan, names))
    event.add("description", "\n\n".join(reasons))
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary(item.plan, names))
    alarm.add("trigger", timedelta(minutes=-REMINDER_MINUTES_BEFORE))
    event.add_component(alarm)
    return event
