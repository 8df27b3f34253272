"""Speaker + speech cache with a fake engine: render once, cache by settings, real durations."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from coach.audio.memory import MemorySink
from coach.clock import VirtualClock
from coach.speak.speaker import Speaker
from coach.script.timeline import Cue, Timeline
from coach.speak.tts.cache import SpeechCache, VoiceKey

RATE = 16_000


class CountingSynth:
    """Fake engine: 0.01 s of tone per character, so lengths are known; counts calls."""

    engine = "fake"
    rate_hz = RATE

    def __init__(self, voice: str = "v1", rate_wpm: int = 160, volume: float = 1.0) -> None:
        self.voice, self.rate_wpm, self.volume = voice, rate_wpm, volume
        self.calls: list[str] = []

    def synthesize(self, text: str) -> bytes:
        self.calls.append(text)
        n = round(0.01 * len(text) * RATE)
        return (3000 * np.sin(np.arange(n) * 0.2)).astype("<i2").tobytes()


def test_prepare_renders_each_text_once_and_returns_real_seconds(speech_cache_dir: Path) -> None:
    synth = CountingSynth()
    speaker = Speaker(synth, SpeechCache(speech_cache_dir))
    seconds = speaker.prepare(["Hold.", "Rest now.", "Hold."])
    assert seconds == {"Hold.": 0.05, "Rest now.": 0.09}
    assert synth.calls == ["Hold.", "Rest now."]


def test_second_run_renders_nothing(speech_cache_dir: Path) -> None:
    Speaker(CountingSynth(), SpeechCache(speech_cache_dir)).prepare(["One.", "Two."])
    again = CountingSynth()
    seconds = Speaker(again, SpeechCache(speech_cache_dir)).prepare(["One.", "Two."])
    assert again.calls == []
    assert seconds == {"One.": 0.04, "Two.": 0.04}


def test_changing_rate_voice_or_volume_renders_again(speech_cache_dir: Path) -> None:
    Speaker(CountingSynth(), SpeechCache(speech_cache_dir)).prepare(["One."])
    for changed in (CountingSynth(rate_wpm=180), CountingSynth(voice="v2"), CountingSynth(volume=0.5)):
        Speaker(changed, SpeechCache(speech_cache_dir)).prepare(["One."])
        assert changed.calls == ["One."]


def test_shorthand_is_rewritten_before_synthesis(speech_cache_dir: Path) -> None:
    synth = CountingSynth()
    Speaker(synth, SpeechCache(speech_cache_dir)).prepare(["Do 10-15 reps, rest 30s."])
    assert synth.calls == ["Do 10 to 15 reps, rest 30 seconds."]


def test_corrupt_cache_entry_is_rendered_again(speech_cache_dir: Path) -> None:
    cache = SpeechCache(speech_cache_dir)
    Speaker(CountingSynth(), cache).prepare(["One."])
    key = VoiceKey("fake", "v1", 160, 1.0)
    cache.path(key, "One.").write_bytes(b"garbage")
    synth = CountingSynth()
    Speaker(synth, SpeechCache(speech_cache_dir)).prepare(["One."])
    assert synth.calls == ["One."]


def test_cache_leaves_only_wav_files(speech_cache_dir: Path) -> None:
    Speaker(CountingSynth(), SpeechCache(speech_cache_dir)).prepare(["a", "b", "c"])
    files = [p for p in speech_cache_dir.rglob("*") if p.is_file()]
    assert len(files) == 3 and all(p.suffix == ".wav" and not p.name.startswith(".") for p in files)


def test_prepared_seconds_make_the_timeline_exact(speech_cache_dir: Path) -> None:
    timeline = Timeline("r", "R", (Cue("say", "Hold for 20 seconds.", 9.9), Cue("pause", "", 20.0)))
    speaker = Speaker(CountingSynth(), SpeechCache(speech_cache_dir))
    exact = timeline.with_speech_seconds(speaker.prepare([c.text for c in timeline.cues if c.text]))
    assert exact.cues[0].seconds == len(speaker.pcm("Hold for 20 seconds.")) / 2 / RATE
    assert exact.total_seconds == exact.cues[0].seconds + 20.0


def test_say_plays_cached_pcm_and_cancel_silences(speech_cache_dir: Path) -> None:
    clock = VirtualClock()
    sink = MemorySink(clock)
    synth = CountingSynth()
    speaker = Speaker(synth, SpeechCache(speech_cache_dir), sink)
    speaker.prepare(["Breathe in slowly."])
    assert speaker.say("Breathe in slowly.") == 0.18
    assert synth.calls == ["Breathe in slowly."]          # say did not render again
    clock.advance(0.1)
    assert speaker.is_playing()
    speaker.cancel()
    assert not speaker.is_playing()
    assert sink.spans_seconds == [(0.0, 0.1)]


def test_prepare_reports_progress_over_the_texts_it_renders(speech_cache_dir: Path) -> None:
    calls: list[tuple[int, int]] = []
    cache = SpeechCache(speech_cache_dir / "p")
    Speaker(CountingSynth(), cache).prepare(["a", "b", "c"], progress=lambda d, t, _: calls.append((d, t)))
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]
    calls.clear()
    Speaker(CountingSynth(), cache).prepare(["a", "b", "c"], progress=lambda d, t, _: calls.append((d, t)))
    assert calls == []                  # all cached: nothing to wait for
