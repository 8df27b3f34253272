"""TTS → ASR round trip: every phrase of content/commands.yaml, spoken by espeak-ng
in several voices, through the engine ``auto`` picks and the live pipeline
(endpointer, listener, parser), in the first context that allows it.

Recall is reported (run with -s) and held above the figure measured here minus a
margin; the urgent phrases must be heard.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from coach.listen.asr.select import build_engine, choose_engine
from coach.audio.wav import read_wav
from coach.content.commands import CommandParser, load_commands
from coach.cli.listen import hear_pcm

pytestmark = pytest.mark.integration

VOICES = ("en-us", "en-us+m3", "en-us+f2", "en-gb")
COMMANDS = load_commands()
PARSER = CommandParser(COMMANDS)
# Recall measured on this round trip (200 renderings): whisper 100 %. The command
# head was trained with espeak-ng renderings too, so the figure is in-distribution;
# the benchmark on held-out speakers and voices is the honest one.
FLOORS = {"whisper": 0.9}
DEFAULT_FLOOR = 0.45


@pytest.fixture(scope="module", params=["auto"])
def results(request, tmp_path_factory) -> tuple[str, list[tuple[str, str, bool]]]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    choice = choose_engine(request.param)
    if choice.engine == "keyboard":
        pytest.skip(choice.reason)
    engine = build_engine(choice, COMMANDS)
    folder = tmp_path_factory.mktemp("phrases")
    out = []
    for voice in VOICES:
        for n, phrase in enumerate(COMMANDS.phrases):
            path = folder / f"{voice}-{n}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), phrase.text], check=True)
            context = next(c for c in COMMANDS.contexts if phrase.command in COMMANDS.commands(c))
            heard, _, _ = hear_pcm(engine, PARSER, read_wav(path), context)
            ok = heard is not None and (heard.command, heard.value) == (phrase.command, phrase.value)
            out.append((voice, phrase.text, ok))
    return engine.name, out


def test_round_trip_recall(results) -> None:
    name, rows = results
    recall = sum(ok for _, _, ok in rows) / len(rows)
    by_voice = {v: sum(ok for voice, _, ok in rows if voice == v) for v in VOICES}
    missed = sorted({text for _, text, ok in rows if not ok})
    print(f"\nround trip with {name}: recall {recall:.1%} of {len(rows)}; per voice {by_voice}; missed {missed}")
    assert recall >= FLOORS.get(name, DEFAULT_FLOOR)


@pytest.mark.parametrize("text", ["stop", "it hurts"])
def test_urgent_phrases_are_heard(results, text) -> None:
    name, rows = results
    hits = [voice for voice, phrase, ok in rows if phrase == text and ok]
    assert len(hits) >= 2, f"{text!r} heard only in {hits}"
