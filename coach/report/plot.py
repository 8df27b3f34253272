"""A picture of the history: pain before and after sessions by day, the sessions done,
mornings worse than usual and the safety outcomes marked; PNG or SVG, drawn with
matplotlib's Agg renderer (no display needed)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

from coach.errors import UsageError
from coach.store.history import History, TriageRecord
from coach.store.records import MorningReport, SessionRecord, morning_reports, session_records
from coach.report.summary import all_outcomes

FOOTNOTE = "Self-care aid, not a medical device. Pain 0-10 as you rated it; outcome letters as in the safety questions."
FORMATS = (".png", ".svg")
_BEFORE, _AFTER, _DONE, _OTHER, _SAFETY, _MORNING = "#1f5fa8", "#2e9d5b", "#b9c4d0", "#e3d3b3", "#c0392b", "#e08a00"


def plot_history(history: History, path: Path, title: str = "Pain before and after sessions") -> None:
    draw(session_records(history), morning_reports(history), all_outcomes(history), path, title)


def draw(sessions: list[SessionRecord], mornings: list[MorningReport], outcomes: list[TriageRecord],
         path: Path, title: str) -> None:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError("plot-format", f"{path}: plots are written as .png or .svg")
    import matplotlib
    from matplotlib.figure import Figure
    import matplotlib.dates as mdates

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "coach-history", "font.size": 9}):
        fig = Figure(figsize=(9.0, 4.4), dpi=100, layout="constrained")
        ax = fig.add_subplot()
        counts = ax.twinx()
        _sessions(counts, sessions)
        _pain(ax, sessions)
        _marks(ax, mornings, outcomes)
        days = _days(sessions, mornings, outcomes)
        if days:
            # floats of matplotlib's date scale: a date minus 0.7 days is the same date
            ax.set_xlim(mdates.date2num(days[0]) - 0.7, mdates.date2num(days[-1]) + 0.7)
        else:
            ax.text(0.5, 0.5, "No sessions yet", transform=ax.transAxes, ha="center", va="center")
        ax.set_ylim(-0.5, 11.2)
        ax.set_yticks(range(0, 11, 2))
        ax.set_zorder(counts.get_zorder() + 1)
        ax.patch.set_visible(False)
        ax.set_title(title)
        ax.set_xlabel("Day")
        ax.set_ylabel("Pain (0-10)")
        counts.set_ylabel("Sessions that day")
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
        ax.grid(axis="y", alpha=0.3)
        handles, labels = ax.get_legend_handles_labels()
        more, more_labels = counts.get_legend_handles_labels()
        if handles or more:
            fig.legend(handles + more, labels + more_labels, loc="outside right upper", fontsize=8, frameon=False)
        fig.supxlabel(FOOTNOTE, fontsize=7, color="#555555")
        fig.savefig(path, format=suffix[1:], metadata={"Date": None} if suffix == ".svg" else None)


def _by_day(sessions: list[SessionRecord], attr: str) -> tuple[list[date], list[float]]:
    values: dict[date, list[int]] = defaultdict(list)
    for s in sessions:
        v = getattr(s, attr)
        if v is not None:
            values[s.day].append(v)
    days = sorted(values)
    return days, [sum(values[d]) / len(values[d]) for d in days]


def _pain(ax, sessions: list[SessionRecord]) -> None:
    for attr, label, color, marker in (("pain_before", "pain before", _BEFORE, "o"),
                                       ("pain_after", "pain after", _AFTER, "s")):
        days, means = _by_day(sessions, attr)
        if days:
            ax.plot(days, means, marker=marker, color=color, label=label, linewidth=1.6, markersize=4)


def _sessions(ax, sessions: list[SessionRecord]) -> None:
    done: dict[date, int] = defaultdict(int)
    other: dict[date, int] = defaultdict(int)
    for s in sessions:
        (done if s.end_reason == "completed" else other)[s.day] += 1
    days = sorted(set(done) | set(other))
    if days:
        ax.bar(days, [done[d] for d in days], width=0.6, color=_DONE, label="sessions completed")
        ax.bar(days, [other[d] for d in days], bottom=[done[d] for d in days], width=0.6, color=_OTHER,
               label="sessions ended early")
    top = max([done[d] + other[d] for d in days] or [1])
    ax.set_ylim(0, top * 3.2)
    ax.set_yticks(range(0, top + 1))


def _marks(ax, mornings: list[MorningReport], outcomes: list[TriageRecord]) -> None:
    worse = [date.fromisoformat(m.day) for m in mornings if m.answer == "worse"]
    if worse:
        ax.scatter(worse, [10.2] * len(worse), marker="v", color=_MORNING, s=30, label="morning worse", zorder=3)
    labelled = False
    for o in outcomes:
        day = datetime.fromisoformat(o.at).date()
        ax.axvline(day, color=_SAFETY, linestyle="--", linewidth=1, alpha=0.7,
                   label=None if labelled else "safety questions (outcome)")
        ax.text(day, 10.75, o.outcome, color=_SAFETY, ha="center", va="center", fontsize=8, fontweight="bold")
        labelled = True


def _days(sessions: list[SessionRecord], mornings: list[MorningReport], outcomes: list[TriageRecord]) -> list[date]:
    days = {s.day for s in sessions} | {date.fromisoformat(m.day) for m in mornings}
    days |= {datetime.fromisoformat(o.at).date() for o in outcomes}
    return sorted(days)
