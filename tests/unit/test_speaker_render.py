"""Rendering a hand-built timeline: speech, silence and chime land on exact sample spans.

At 16 kHz every sample position has at most 7 decimals in seconds, so the JSON is exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from coach.audio.wav import pcm_rms
from coach.speak.render import chime_pcm, prepared_timeline, render_timeline
from coach.speak.speaker import Speaker
from coach.script.timeline import Cue, Timeline
from coach.speak.tts.cache import SpeechCache

RATE = 16_000


class ToneSynth:
    engine, voice, rate_wpm, volume, rate_hz = "fake", "v", 160, 1.0, RATE

    def __init__(self) -> None:
        self.calls = 0

    def synthesize(self, text: str) -> bytes:
        self.calls += 1
        n = 1601 * len(text.split())                 # odd lengths: no accidental round numbers
        return (5000 * np.sin(np.arange(n) * 0.3)).astype("<i2").tobytes()


TIMELINE = Timeline("t", "T", (
    Cue("say", "Lie on your back.", 0.1),          # speech longer than the estimate: speech wins
    Cue("chime", "", 0.3),
    Cue("pause", "", 2.5),
    Cue("count", "Three, two, one.", 0.1),
    Cue("listen", "", 1.25),
    Cue("listen", "Say next when ready.", 1.0),
    Cue("say", "Well done.", 0.5),
))


def test_cues_are_contiguous_sample_spans_matching_their_audio(speech_cache_dir: Path) -> None:
    speaker = Speaker(ToneSynth(), SpeechCache(speech_cache_dir))
    rendering = render_timeline(TIMELINE, speaker)
    cues = rendering.cues
    assert cues[0].start_sample == 0
    assert all(a.end_sample == b.start_sample for a, b in zip(cues, cues[1:]))
    assert cues[-1].end_sample * 2 == len(rendering.pcm)
    spans = {c.kind + c.text: c.end_sample - c.start_sample for c in cues}
    assert spans["sayLie on your back."] == 4 * 1601
    assert spans["countThree, two, one."] == 3 * 1601
    assert spans["pause"] == 2.5 * RATE and spans["listen"] == 1.25 * RATE and spans["chime"] == 0.3 * RATE
    assert spans["listenSay next when ready."] == RATE               # prompt (4 words) then silence to 1 s
    assert spans["sayWell done."] == 0.5 * RATE                       # the session waits the cue's seconds
    for cue in cues:
        audio = rendering.pcm[cue.start_sample * 2 : cue.end_sample * 2]
        if cue.text or cue.kind == "chime":
            assert pcm_rms(audio) > 300, cue
        else:
            assert pcm_rms(audio) == 0, cue
    prompt = next(c for c in cues if c.text == "Say next when ready.")
    tail = rendering.pcm[(prompt.start_sample + 4 * 1601) * 2 : prompt.end_sample * 2]
    assert len(tail) > 0 and pcm_rms(tail) == 0


def test_json_seconds_is_the_wav_length(speech_cache_dir: Path) -> None:
    rendering = render_timeline(TIMELINE, Speaker(ToneSynth(), SpeechCache(speech_cache_dir)))
    data = rendering.to_json()
    assert data["seconds"] == len(rendering.pcm) / 2 / RATE
    assert [c["kind"] for c in data["cues"]] == ["say", "chime", "pause", "count", "listen", "listen", "say"]
    assert data["cues"][-1]["end_seconds"] == data["seconds"]


def test_chime_is_soft_and_starts_and_ends_quietly() -> None:
    samples = np.frombuffer(chime_pcm(0.4), "<i2")
    assert len(samples) == 0.4 * RATE
    assert 2000 < np.abs(samples).max() < 0.25 * 32767
    assert abs(int(samples[0])) < 50 and abs(int(samples[-1])) < 50


def test_prepared_timeline_renders_first_then_uses_measured_lengths(speech_cache_dir: Path) -> None:
    synth = ToneSynth()
    speaker = Speaker(synth, SpeechCache(speech_cache_dir))
    seen: list[object] = []

    def build(speech_seconds=None) -> Timeline:  # type: ignore[no-untyped-def]
        seen.append(speech_seconds)
        seconds = speech_seconds or (lambda text: 9.0)
        return Timeline("t", "T", (Cue("say", "Hold for 20 seconds.", seconds("Hold for 20 seconds.")),))

    timeline = prepared_timeline(build, speaker)
    assert seen[0] is None and seen[1] is not None
    assert timeline.cues[0].seconds == 4 * 1601 / RATE
    assert synth.calls == 1
