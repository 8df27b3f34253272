"""`coach enroll` and the microphone mode of `coach hear`, with a scripted source."""

from __future__ import annotations

import io
import wave
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from coach.listen.asr import Hypothesis
from coach.audio import AudioChunk
from coach.content.commands import CommandParser, load_commands
from coach.cli.listen import listen_microphone
from coach.listen.enroll import capture_utterance, enrolled_clips, level_meter, next_clip_path, prompts, run_enrollment
from coach.errors import AudioDeviceError

RATE = 16_000
COMMANDS = load_commands()


class ScriptedSource:
    """A microphone that says a tone burst at 0.5-0.9 s of every 2 s, then ends."""

    def __init__(self, total_seconds: float = 6.0) -> None:
        t = np.arange(round(total_seconds * RATE)) / RATE
        burst = ((t % 2.0) >= 0.5) & ((t % 2.0) < 0.9)
        noise = np.random.default_rng(0).normal(0, 20, len(t))
        self.samples = np.rint(noise + burst * 8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
        self.position = 0
        self.closed = False
        self.rate_hz = RATE

    def read(self, block_seconds: float) -> AudioChunk | None:
        n = round(block_seconds * RATE)
        if self.position >= len(self.samples):
            return None
        piece = self.samples[self.position:self.position + n]
        chunk = AudioChunk(piece.tobytes(), RATE, self.position / RATE)
        self.position += n
        return chunk

    def close(self) -> None:
        self.closed = True


def test_prompts_use_classifier_labels() -> None:
    labels = [p.label for p in prompts(COMMANDS)]
    assert "stop" in labels and "resume" in labels and "time_left" in labels
    assert "number" not in labels and "seven" in labels and "ten" in labels
    assert {p.label: p.phrase for p in prompts(COMMANDS)}["resume"] == "go"
    assert [p.label for p in prompts(COMMANDS, only=["stop", "seven"])] == ["stop", "seven"]


def test_clip_numbers_continue_after_existing_ones(tmp_path: Path) -> None:
    assert next_clip_path(tmp_path, "stop") == tmp_path / "enroll" / "stop" / "1.wav"
    (tmp_path / "enroll" / "stop").mkdir(parents=True)
    (tmp_path / "enroll" / "stop" / "1.wav").write_bytes(b"")
    (tmp_path / "enroll" / "stop" / "3.wav").write_bytes(b"")
    assert next_clip_path(tmp_path, "stop").name == "2.wav"


def test_capture_cuts_one_utterance_with_margins() -> None:
    segment = capture_utterance(ScriptedSource().read)
    assert segment is not None
    assert 0.3 <= segment.start_seconds <= 0.5 and 0.9 <= segment.end_seconds <= 1.1


def test_capture_gives_up_on_silence() -> None:
    quiet = ScriptedSource()
    quiet.samples[:] = 0
    assert capture_utterance(quiet.read, wait_seconds=1.0) is None


def test_enrollment_writes_the_documented_layout(tmp_path: Path) -> None:
    source = ScriptedSource(total_seconds=12.0)
    spoken: list[str] = []
    args = SimpleNamespace(data_dir=tmp_path, content_dir=None)
    out = io.StringIO()
    assert run_enrollment(args, times=2, only=["stop", "seven"], out=out, source=source, say=spoken.append,
                          is_stop=lambda pcm: False) == 0
    clips = enrolled_clips(tmp_path)
    assert sorted(clips) == ["seven", "stop"]
    assert [p.name for p in clips["stop"]] == ["1.wav", "2.wav"]
    with wave.open(str(clips["seven"][0])) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2)
        assert 0.4 <= w.getnframes() / RATE <= 1.0
    assert spoken == ["Say: stop."] * 2 + ["Say: seven."] * 2
    assert source.closed and "kept on this device" in out.getvalue()


class ToneEngine:
    name = "tones"

    def transcribe(self, pcm: bytes, context: str, urgent_only: bool = False,
                   over_coach: bool = False) -> Hypothesis | None:
        return Hypothesis("stop", 0.9, True, self.name)


def test_microphone_mode_prints_commands_and_a_level_meter() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = listen_microphone(ToneEngine(), CommandParser(COMMANDS), "session", "Using tones.", out, err,
                             open_source=ScriptedSource)
    assert code == 3                          # the scripted source ends like a lost device
    assert out.getvalue().count("\nstop ") == 3
    assert "dBFS" in err.getvalue() and "Using tones." in err.getvalue()


def test_no_microphone_is_an_audio_error() -> None:
    def no_device():
        raise AudioDeviceError("no-audio-device", "no audio input device")
    with pytest.raises(AudioDeviceError) as caught:
        listen_microphone(ToneEngine(), CommandParser(COMMANDS), "session", "", io.StringIO(), io.StringIO(),
                          open_source=no_device)
    assert caught.value.exit_code == 3


def test_level_meter_scale() -> None:
    assert level_meter(bytes(320)).startswith("[" + " " * 30 + "]")
    loud = (np.ones(320) * 32000).astype("<i2").tobytes()
    assert level_meter(loud).startswith("[" + "#" * 30 + "]")


def test_saying_stop_for_another_word_ends_enrolment_keeping_the_clips(tmp_path: Path) -> None:
    """The second clip asked for "seven" is heard as "stop": enrolment ends with
    status 10, and the first clip stays; a clip asked for "stop" is only a clip."""
    source = ScriptedSource(total_seconds=12.0)
    answers = iter([False, True])
    args = SimpleNamespace(data_dir=tmp_path, content_dir=None)
    out = io.StringIO()
    status = run_enrollment(args, times=2, only=["stop", "seven"], out=out, source=source,
                            say=lambda text: None, is_stop=lambda pcm: next(answers))
    assert status == 10
    clips = enrolled_clips(tmp_path)
    assert [p.name for p in clips["stop"]] == ["1.wav", "2.wav"] and [p.name for p in clips["seven"]] == ["1.wav"]
    assert "stopped; the 3 clips recorded so far are kept" in out.getvalue() and source.closed
