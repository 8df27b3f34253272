"""Speaker: every cue rendered before the session, then played as PCM through a sink.

``prepare`` fills the speech cache and returns each text's real duration, which
replaces the words-per-minute estimate in the timeline. During a session
``say`` only hands cached PCM to the sink, so timing never waits on synthesis
and ``cancel`` silences within one audio block.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from coach.audio import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES, AudioSink
from coach.clock import Clock
from coach.speak.tts import Synthesizer
from coach.speak.tts.cache import SpeechCache, VoiceKey
from coach.speak.tts.numbers import speakable

ProgressCallback = Callable[[int, int, str], None]     # (rendered so far, to render, text)


class Speaker:
    def __init__(self, synth: Synthesizer, cache: SpeechCache | None = None, sink: AudioSink | None = None) -> None:
        self.synth = synth
        self.cache = cache
        self.sink = sink
        self.key = VoiceKey(synth.engine, synth.voice, int(synth.rate_wpm), float(getattr(synth, "volume", 1.0)))
        self._pcm: dict[str, bytes] = {}
        self.rendered = 0              # texts synthesized (cache misses) by this speaker

    def prepare(self, texts: Iterable[str], progress: ProgressCallback | None = None) -> dict[str, float]:
        """Render every text not yet cached; returns {text: spoken seconds}."""
        unique = list(dict.fromkeys(texts))
        missing = [text for text in unique if self._lookup(text) is None]
        for done, text in enumerate(missing):
            if progress:
                progress(done, len(missing), text)
            self._render(text)
        if progress and missing:
            progress(len(missing), len(missing), "")
        return {text: self.seconds(text) for text in unique}

    def pcm(self, text: str) -> bytes:
        """16 kHz mono int16 for ``text``, rendering it now if it was not prepared."""
        found = self._lookup(text)
        return found if found is not None else self._render(text)

    def seconds(self, text: str) -> float:
        return len(self.pcm(text)) / SAMPLE_WIDTH_BYTES / SAMPLE_RATE_HZ

    def say(self, text: str) -> float:
        """Start playing ``text`` (returns at once); returns its length in seconds."""
        if self.sink is None:
            raise RuntimeError("Speaker has no sink to play through")
        pcm = self.pcm(text)
        self.sink.play(pcm)
        return len(pcm) / SAMPLE_WIDTH_BYTES / SAMPLE_RATE_HZ

    def cancel(self) -> None:
        if self.sink is not None:
            self.sink.cancel()

    def is_playing(self) -> bool:
        return self.sink is not None and self.sink.is_playing()

    def _lookup(self, text: str) -> bytes | None:
        if text in self._pcm:
            return self._pcm[text]
        found = self.cache.get(self.key, speakable(text)) if self.cache else None
        if found is not None:
            self._pcm[text] = found
        return found

    def _render(self, text: str) -> bytes:
        spoken = speakable(text)
        pcm = self.synth.synthesize(spoken)
        self.rendered += 1
        if self.cache is not None:
            self.cache.put(self.key, spoken, pcm)
        self._pcm[text] = pcm
        return pcm


ENGINES = ("pyttsx3", "piper")


def open_synthesizer(engine: str = "pyttsx3", rate_wpm: int | None = None, volume: float = 1.0,
                     voice: str | None = None, warn: Callable[[str], None] | None = None) -> Synthesizer:
    """The chosen engine; Piper missing → ``warn`` names the install command, then pyttsx3."""
    from coach.speak.tts.pyttsx3 import DEFAULT_RATE_WPM, Pyttsx3Synthesizer, SpeechEngineError

    rate = int(rate_wpm or DEFAULT_RATE_WPM)
    if engine == "piper":
        from coach.speak.tts.piper import DEFAULT_VOICE, PiperSynthesizer

        try:
            return PiperSynthesizer(voice or DEFAULT_VOICE, rate, volume)
        except SpeechEngineError as error:
            (warn or _warn)(f"{error.message}; using pyttsx3")
            voice = None
    elif engine != "pyttsx3":
        from coach.errors import UsageError

        raise UsageError("bad-voice", f"unknown speech engine {engine!r}; choose one of {', '.join(ENGINES)}")
    return Pyttsx3Synthesizer(voice or "", rate, volume)


def _warn(message: str) -> None:
    print(f"coach: {message}", file=sys.stderr)


def open_voice(settings: object, clock: Clock) -> tuple[Speaker, AudioSink | None]:
    """Composition seam for sessions: a cached Speaker and, unless output goes to a file, a device sink.

    Engine, voice id and rate come from ``settings.voice`` / ``voice_id`` /
    ``rate_wpm`` when present, else $COACH_VOICE, $COACH_VOICE_ID, $COACH_RATE_WPM.
    Raises ``AudioDeviceError`` when there is no usable output device.
    """
    import os
    from pathlib import Path

    from coach.speak.tts.cache import SpeechCache

    engine = getattr(settings, "voice", None) or os.environ.get("COACH_VOICE") or "pyttsx3"
    voice_id = getattr(settings, "voice_id", None) or os.environ.get("COACH_VOICE_ID") or None
    rate = getattr(settings, "rate_wpm", None) or os.environ.get("COACH_RATE_WPM") or None
    cache_dir = getattr(settings, "cache_dir", None)
    cache = SpeechCache(Path(cache_dir) / "speech" if cache_dir else None)
    sink: AudioSink | None = None
    if getattr(settings, "speaker_path", None) is None:
        from coach.audio.device import DeviceSink

        sink = DeviceSink(clock=clock)
    synth = open_synthesizer(engine, int(rate) if rate else None, voice=voice_id)
    return Speaker(synth, cache, sink), sink
