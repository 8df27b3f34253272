"""MemorySink and WavFileSink: queue semantics and cut-offs on the session timeline."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from coach.audio.memory import MemorySink
from coach.audio.wav import WavFileSink, pcm_rms, read_wav
from coach.clock import VirtualClock

RATE = 16_000


def tone(seconds: float, amplitude: int = 8000) -> bytes:
    t = np.arange(round(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()


def test_play_queues_after_the_sound_still_playing() -> None:
    clock = VirtualClock()
    sink = MemorySink(clock)
    sink.play(tone(1.0))
    clock.advance(0.25)
    sink.play(tone(0.5))
    assert sink.spans_seconds == [(0.0, 1.0), (1.0, 1.5)]
    assert sink.is_playing()
    clock.advance(1.25)
    assert not sink.is_playing()


def test_cancel_cuts_the_current_sound_and_drops_the_queue() -> None:
    clock = VirtualClock()
    sink = MemorySink(clock)
    sink.play(tone(1.0))
    sink.play(tone(1.0))
    clock.advance(0.4)
    sink.cancel()
    assert sink.spans_seconds == [(0.0, 0.4)]
    assert sink.placed[0].cancelled
    assert sink.cancel_seconds == [0.4]
    assert not sink.is_playing()


def test_wav_sink_writes_sound_where_it_was_played_and_cut_at_cancel(tmp_path: Path) -> None:
    clock = VirtualClock(start_seconds=100.0)     # sink time counts from its creation
    path = tmp_path / "out.wav"
    sink = WavFileSink(path, clock)
    clock.advance(1.0)
    sink.play(tone(2.0))
    clock.advance(0.5)
    sink.cancel()                                 # the 2 s cue is cut after 0.5 s
    clock.advance(1.0)
    sink.close()
    pcm = read_wav(path)
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (RATE, 1, 2)
    assert len(pcm) // 2 == round(2.5 * RATE)     # runs to the clock at close
    samples = lambda a, b: pcm[round(a * RATE) * 2 : round(b * RATE) * 2]  # noqa: E731
    assert pcm_rms(samples(0.0, 1.0)) == 0
    assert pcm_rms(samples(1.0, 1.5)) > 1000
    assert pcm_rms(samples(1.5, 2.5)) == 0


def test_wav_sink_close_twice_writes_once(tmp_path: Path) -> None:
    clock = VirtualClock()
    sink = WavFileSink(tmp_path / "x.wav", clock)
    sink.play(tone(0.1))
    sink.close()
    (tmp_path / "x.wav").unlink()
    sink.close()
    assert not (tmp_path / "x.wav").exists()
