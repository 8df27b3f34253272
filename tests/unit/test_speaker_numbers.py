"""Numeric shorthand becomes words engines read correctly; plain text is untouched."""

from __future__ import annotations

import pytest

from coach.speak.tts.numbers import countdown, speakable


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("Do 10-15 reps.", "Do 10 to 15 reps."),
        ("Rest 30s.", "Rest 30 seconds."),
        ("Hold 5 min.", "Hold 5 minutes."),
        ("2x a day", "2 times a day"),
        ("Rep 1/10", "Rep 1 of 10"),
        ("Bend to 90°.", "Bend to 90 degrees."),
        ("Hold for 20 seconds.", "Hold for 20 seconds."),
        ("Set 2 of 3. Now the left leg.", "Set 2 of 3. Now the left leg."),
        ("Hips   and\n knees", "Hips and knees"),
    ],
)
def test_speakable(text: str, spoken: str) -> None:
    assert speakable(text) == spoken


def test_countdown() -> None:
    assert countdown(3) == "3, 2, 1."
    assert countdown(1) == "1."
