"""The self-hearing guard on real speech: the coach's own cues, rendered with
espeak-ng, come back into the microphone at -6 dB with a 40 ms delay and must
fire nothing; a person saying "stop" (development recordings) over the coach's
speech must still be heard. Uses the engine ``auto`` picks, as a session does.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from coach.listen.asr.select import build_engine, choose_engine
from coach.audio import AudioChunk
from coach.audio.wav import read_wav
from coach.content.commands import CommandParser, load_commands
from coach.listen.listener import Listener
from coach.testing.devset import dev_clips

pytestmark = pytest.mark.integration

RATE = 16_000
CUES = [
    "Stop if you feel any sharp pain. Now pause and rest.",
    "Next, lie on your back and bring one knee to your chest. Hold it there, then go back slowly.",
    "Say yes or no. Does it hurts when you move? Tell me a number from zero to ten.",
    "Good. Again, breathe out as you tilt, and continue for five more. That hurts less over time.",
]
COMMANDS = load_commands()
PARSER = CommandParser(COMMANDS)


@pytest.fixture(scope="module")
def engine():
    choice = choose_engine("auto")
    if choice.engine == "keyboard":
        pytest.skip(choice.reason)
    return build_engine(choice, COMMANDS)


@pytest.fixture(scope="module")
def cues(tmp_path_factory) -> list[np.ndarray]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    folder = tmp_path_factory.mktemp("cues")
    out = []
    for i, text in enumerate(CUES):
        path = folder / f"{i}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True)
        out.append(np.frombuffer(read_wav(path), dtype="<i2").astype(np.float64))
    return out


def session(engine, cue_index: int, cue: np.ndarray, user: np.ndarray | None = None,
            user_at_seconds: float = 1.5, guarded: bool = True, context: str = "session",
            delay_ms: float = 40.0, gain_db: float = -6.0):
    """Play one cue from 0.5 s; the mic hears it at -6 dB, 40 ms later (unless told
    otherwise), plus room noise."""
    start_seconds = 0.5
    total = round((start_seconds + len(cue) / RATE + 2.0) * RATE)
    mic = np.random.default_rng(cue_index).normal(0.0, 20.0, total)
    a = round((start_seconds + delay_ms / 1000) * RATE)
    mic[a:a + len(cue)] += cue[:len(mic) - a] * 10 ** (gain_db / 20)
    if user is not None:
        b = round(user_at_seconds * RATE)
        mic[b:b + len(user)] += user
    pcm = np.clip(np.rint(mic), -32768, 32767).astype("<i2").tobytes()
    listener = Listener(engine, PARSER, context=context)
    end_seconds = start_seconds + len(cue) / RATE
    if guarded:
        listener.note_playback(CUES[cue_index], np.rint(cue).astype("<i2").tobytes(), start_seconds)
    heard = []
    step = 2 * 1600
    for offset in range(0, len(pcm), step):
        t = offset / 2 / RATE
        speaking = guarded and start_seconds <= t < end_seconds
        heard.extend(listener.feed(AudioChunk(pcm[offset:offset + step], RATE, t), speaking))
    return heard + listener.flush()


def test_the_coach_hears_its_own_cues_but_acts_on_none(engine, cues) -> None:
    unguarded = [h for i, cue in enumerate(cues) for h in session(engine, i, cue, guarded=False)]
    fired = [(i, h.command, h.text) for i, cue in enumerate(cues) for h in session(engine, i, cue)]
    assert fired == []
    # the test can fail: without the guard the same audio does fire commands
    assert unguarded


@pytest.mark.parametrize("context", ["yesno", "number"])
def test_no_command_from_own_cues_in_triage_contexts(engine, cues, context) -> None:
    fired = [(i, h.command) for i, cue in enumerate(cues) for h in session(engine, i, cue, context=context)]
    assert fired == []


def test_a_person_saying_stop_over_the_coach_is_heard(engine, cues) -> None:
    clips = dev_clips("stop", 8)
    heard = []
    for n, clip in enumerate(clips):
        user = np.frombuffer(read_wav(clip), dtype="<i2").astype(np.float64)
        result = session(engine, 1, cues[1], user=user, user_at_seconds=1.5 + 0.3 * n)
        heard.append(any(h.command == "stop" for h in result))
        assert all(h.command in ("stop", "pain") for h in result)     # only urgent words while speaking
    assert sum(heard) >= 6, heard


def test_a_live_echo_path_of_350_ms_fires_nothing_and_stop_is_still_heard(engine, cues) -> None:
    """Speaker and microphone buffers of a live sound card delay the echo well past 40 ms."""
    fired = [(i, h.command, h.text) for i, cue in enumerate(cues)
             for h in session(engine, i, cue, delay_ms=350.0, gain_db=-8.0)]
    assert fired == []
    heard = []
    for n, clip in enumerate(dev_clips("stop", 8)[:4]):
        user = np.frombuffer(read_wav(clip), dtype="<i2").astype(np.float64)
        result = session(engine, 1, cues[1], user=user, user_at_seconds=1.5 + 0.5 * n,
                         delay_ms=350.0, gain_db=-8.0)
        heard.append(any(h.command == "stop" for h in result))
    assert sum(heard) >= 3, heard


def test_stop_decided_in_audio_time_within_300_ms_of_the_speech_end(engine, cues) -> None:
    clip = dev_clips("stop", 8)[2]
    user = np.frombuffer(read_wav(clip), dtype="<i2").astype(np.float64)
    result = [h for h in session(engine, 1, cues[1], user=user, user_at_seconds=2.0) if h.command == "stop"]
    if not result:
        pytest.skip("this clip is not recognised by the engine in use")
    h = result[0]
    assert h.decided_seconds - h.audio_end_seconds <= 0.3
    assert 1.8 <= h.audio_start_seconds and h.audio_end_seconds <= 3.1


SENTENCES = [
    "The weather today will be cloudy with a chance of rain in the afternoon.",
    "She walked to the market and bought some apples, bread and cheese for dinner.",
    "In other news, the city council approved a new plan for the park near the river.",
    "Thank you for calling. Please hold while we connect you to the next available agent.",
    "My brother lives in a small house by the sea and works as a teacher.",
    "Turn left at the second light, then keep going until you see the church.",
]
# Commands fired over the 36 runs (6 sentences x 2 voices x 3 contexts), measured.
RUNNING_SPEECH_MEASURED = {"whisper": 1}


def test_running_speech_rarely_fires(engine, tmp_path) -> None:
    """Someone talking nearby (a radio, a visitor): not the coach, so no guard helps."""
    fired = []
    for n, sentence in enumerate(SENTENCES):
        for voice in ("en-us", "en-gb+m3"):
            path = tmp_path / f"{n}-{voice}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), sentence], check=True)
            pcm = read_wav(path)
            for context in ("session", "yesno", "number"):
                listener = Listener(engine, PARSER, context=context)
                heard = []
                for offset in range(0, len(pcm), 3200):
                    chunk = AudioChunk(pcm[offset:offset + 3200], RATE, offset / 2 / RATE)
                    heard.extend(listener.feed(chunk, speaking=False))
                fired += [(n, voice, context, h.command) for h in heard + listener.flush()]
    print(f"\nrunning speech with {engine.name}: {len(fired)} commands in 36 runs: {fired}")
    assert len(fired) <= RUNNING_SPEECH_MEASURED.get(engine.name, 6) + 3, fired
    assert not [f for f in fired if f[3] in ("stop", "pain")]      # never a false safety stop here
