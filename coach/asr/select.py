"""Which recognizer to use, and a sentence saying why (the coach announces it).

``auto``: Vosk if its English model is installed, else the embedded default
(PocketSphinx, verified by the keyword classifier when its weights are present),
else the keyboard; in auto the classifier joins whichever decoder is chosen.
Naming an engine (``pocketsphinx``, ``vosk``, ``keyword``) gets that engine alone,
so each can be measured on its own.

Clips recorded by ``coach enroll`` (<data dir>/enroll/) adapt the classifier to
the user's voice whenever it is loaded; the sentence says how many were used.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from coach.asr.combined import CombinedEngine, Policy, SegmentEngine
from coach.commands import CommandSet
from coach.errors import ModelError, UsageError
from coach.models import CATALOGUE, DEFAULT_MODEL, installed_path, models_dir

ENGINES = ("auto", "vosk", "pocketsphinx", "keyword", "keyboard")


@dataclass(frozen=True)
class EngineChoice:
    engine: str                 # vosk | pocketsphinx | keyword | keyboard
    reason: str                 # one sentence for people
    model_path: Path | None = None
    with_classifier: bool = False
    enroll_data_dir: Path | None = None     # where enrolled clips adapt the classifier
    enrolled_clips: int = 0


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def classifier_available() -> bool:
    if not _has("onnxruntime"):
        return False
    try:
        from coach.asr.keyword import DEFAULT_WEIGHTS
    except ImportError:
        return False
    return Path(DEFAULT_WEIGHTS).is_file()


def choose_engine(requested: str = "auto", directory: Path | None = None,
                  data_dir: Path | None = None) -> EngineChoice:
    """``data_dir`` holds the enrolled clips (default: the user data dir)."""
    return _with_enrollment(_choose(requested, directory), data_dir)


def _with_enrollment(choice: EngineChoice, data_dir: Path | None) -> EngineChoice:
    if not choice.with_classifier:
        return choice
    from coach.enroll import enrolled_clips
    from coach.settings import default_data_dir
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    count = sum(len(paths) for paths in enrolled_clips(folder).values())
    if not count:
        return choice
    reason = choice.reason.rstrip(".") + f"; the classifier is adapted to your voice with {count} clips."
    return replace(choice, reason=reason, enroll_data_dir=folder, enrolled_clips=count)


def _choose(requested: str, directory: Path | None) -> EngineChoice:
    if requested not in ENGINES:
        raise UsageError("engine-unknown", f"unknown engine {requested!r}; choose from {', '.join(ENGINES)}")
    spec = CATALOGUE[DEFAULT_MODEL]
    vosk_path = installed_path(spec, directory) if _has("vosk") else None
    classifier = classifier_available()
    if requested == "vosk":
        if vosk_path is None:
            raise ModelError("model-missing", f"the Vosk English model is not in {directory or models_dir()}; "
                             "get it with: coach models fetch vosk-small-en")
        return EngineChoice("vosk", "Using Vosk alone, as asked.", vosk_path, False)
    if requested == "pocketsphinx":
        return EngineChoice("pocketsphinx", "Using PocketSphinx alone, as asked.", None, False)
    if requested == "keyword":
        if not classifier:
            raise ModelError("model-missing", "the keyword classifier's weights are not installed")
        return EngineChoice("keyword", "Using the keyword classifier, as asked.", None, True)
    if requested == "keyboard":
        return EngineChoice("keyboard", "Using the keyboard, as asked.")
    if vosk_path is not None:
        return EngineChoice("vosk", f"Using Vosk because its English model is installed in {vosk_path.parent}.",
                            vosk_path, classifier)
    if _has("pocketsphinx"):
        verified = " with the keyword classifier checking what it hears" if classifier else ""
        return EngineChoice("pocketsphinx", "Using the built-in PocketSphinx recognizer" + verified +
                            ", because the Vosk English model is not installed "
                            "(coach models fetch vosk-small-en adds it).", None, classifier)
    return EngineChoice("keyboard", "Using the keyboard, because no speech recognizer is installed.")


def build_engine(choice: EngineChoice, command_set: CommandSet, policy: Policy | None = None,
                 warn: Callable[[str], None] | None = None) -> SegmentEngine:
    """Load the models once; the result transcribes speech segments. Enrolled clips
    adapt the classifier (an unreadable clip is skipped with a one-line warning)."""
    if choice.engine == "keyboard":
        raise UsageError("engine-keyboard", "the keyboard engine does not listen to audio")
    decoder: SegmentEngine | None = None
    if choice.engine == "vosk":
        from coach.asr.vosk import VoskEngine
        decoder = VoskEngine(command_set, choice.model_path)
    elif choice.engine == "pocketsphinx":
        from coach.asr.pocketsphinx import PocketSphinxEngine
        # Alone it needs garbage words to reject anything; verified by the
        # classifier, the plain grammar proposes more of the right words.
        decoder = PocketSphinxEngine(command_set, garbage=not choice.with_classifier)
    classifier = None
    if choice.with_classifier:
        from coach.asr.keyword import KeywordClassifier
        classifier = KeywordClassifier.load()
        if choice.enroll_data_dir is not None:
            from coach.enroll import load_enrolled
            warn = warn or (lambda line: print(line, file=sys.stderr))
            classifier = classifier.adapt(load_enrolled(choice.enroll_data_dir, warn))
    return CombinedEngine(command_set, decoder, classifier, policy)
