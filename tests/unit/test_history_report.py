"""The weekly summary from a known history, and the plot read back (PNG pixels, SVG XML)."""

from __future__ import annotations

import json
import struct
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest

from coach.cli.parser import main
from coach.report.plot import FOOTNOTE, plot_history
from coach.report.summary import weekly_summary
from coach.store.history import History
from coach.store.records import add_morning_report
from coach.testing.histories import SteppedClock, three_weeks

TZ = timezone(timedelta(hours=1))


@pytest.fixture
def known(tmp_path):
    """Mon 30 Nov - Sun 6 Dec 2026 (2026-W49), then Mon 7 Dec (W50)."""
    clock = SteppedClock(datetime(2026, 11, 30, 9, tzinfo=TZ))
    path = tmp_path / "history.sqlite3"
    with History(path, clock) as h:
        for sid, day, before, after, end in (("a", 30, 6, 4, "completed"), ("b", 2, 5, None, "stopped"),
                                             ("c", 6, 4, 3, "completed")):
            clock.now = datetime(2026, 12 if day < 30 else 11, day, 9, tzinfo=TZ)
            h.start_session(sid, "gentle-floor", "low")
            h.add_pain_rating(before, "baseline", sid)
            if after is not None:
                h.add_pain_rating(after, "after", sid)
            h.end_session(sid, end)
        clock.now = datetime(2026, 12, 1, 7, tzinfo=TZ)
        add_morning_report(h, "worse")
        clock.now = datetime(2026, 12, 2, 7, tzinfo=TZ)
        add_morning_report(h, "usual")
        clock.now = datetime(2026, 12, 2, 9, 5, tzinfo=TZ)
        h.start_triage("t1", "b", "bridge", "voice", "full")
        h.finish_triage("t1", "b1", "end-today", ("pain-rose",), True, "full", "b", "bridge")
        clock.now = datetime(2026, 12, 7, 7, tzinfo=TZ)
        add_morning_report(h, "worse")
        clock.now = datetime(2026, 12, 7, 9, tzinfo=TZ)
        h.start_session("d", "desk-break", "mid")
        h.add_pain_rating(3, "baseline", "d")
    return path


def test_weekly_summary_of_a_known_history(known):
    with History(known) as h:
        weeks = [w.as_dict() for w in weekly_summary(h)]
    assert weeks == [
        {"week": "2026-W49", "first_day": "2026-11-30", "sessions": 3, "completed": 2, "pain_before_mean": 5.0,
         "pain_after_mean": 3.5, "mornings": 2, "mornings_worse": 1, "outcomes": {"b1": 1}},
        {"week": "2026-W50", "first_day": "2026-12-07", "sessions": 1, "completed": 0, "pain_before_mean": 3.0,
         "pain_after_mean": None, "mornings": 1, "mornings_worse": 1, "outcomes": {}},
    ]


def test_history_command_prints_and_returns_the_weekly_summary(known, monkeypatch, capsys):
    monkeypatch.setenv("COACH_DATA_DIR", str(known.parent))
    assert main(["history"]) == 0
    out = capsys.readouterr().out
    assert "By week:" in out and "Recent sessions:" in out and "Triage outcomes:" in out
    assert ("2026-W49 (from 2026-11-30)  sessions 3 (2 completed)  pain before 5, after 3.5  "
            "mornings worse 1/2  safety: b1 x1") in out
    assert main(["history", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [w["week"] for w in data["weeks"]] == ["2026-W49", "2026-W50"]
    assert {"sessions", "pain_trend", "outcomes", "locks"} <= set(data)


def test_png_plot_has_its_size_and_is_not_blank(tmp_path, monkeypatch, capsys):
    history = three_weeks(tmp_path / "history.sqlite3")
    monkeypatch.setenv("COACH_DATA_DIR", str(history.parent))
    out = tmp_path / "pain.png"
    assert main(["history", "--plot", str(out)]) == 0
    head = out.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == (900, 440)
    import matplotlib.image

    pixels = matplotlib.image.imread(out)
    assert pixels.shape[:2] == (440, 900)
    assert pixels[..., :3].std() > 0.05
    colours = {tuple(p) for p in (pixels[::7, ::7, :3] * 255).round().astype(int).reshape(-1, 3)}
    assert (31, 95, 168) in colours or any(abs(r - 31) + abs(g - 95) + abs(b - 168) < 30 for r, g, b in colours)
    assert out.stat().st_size < 150_000


def test_svg_plot_parses_with_title_axes_legend_and_footnote(known, tmp_path):
    out = tmp_path / "pain.svg"
    with History(known) as h:
        plot_history(h, out)
    root = ET.parse(out).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {"".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")}
    for expected in ("Pain before and after sessions", "Day", "Pain (0-10)", "pain before", "pain after",
                     "sessions completed", "morning worse", "safety questions (outcome)", "b1", FOOTNOTE):
        assert expected in texts, expected
    assert len(list(root.iter("{http://www.w3.org/2000/svg}path"))) > 20


def test_an_empty_history_still_plots_and_a_wrong_suffix_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path))
    assert main(["history", "--plot", str(tmp_path / "empty.svg")]) == 0
    assert "No sessions yet" in (tmp_path / "empty.svg").read_text()
    assert main(["history", "--plot", str(tmp_path / "pain.pdf")]) == 2
    assert "png or .svg" in capsys.readouterr().err


def test_a_single_day_plots_with_room_either_side_and_no_warning(tmp_path):
    import warnings

    at = datetime(2026, 3, 2, 18, 0, tzinfo=timezone.utc)
    with History(tmp_path / "h.sqlite3", lambda: at) as h:
        h.start_session("s1", "gentle-floor", "low")
        h.add_pain_rating(3, "baseline", "s1")
        h.end_session("s1", "completed")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            plot_history(h, tmp_path / "one.svg")
    assert (tmp_path / "one.svg").stat().st_size > 1000
