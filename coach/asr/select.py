"""Which recognizer to use, and a sentence saying why (the coach announces it).

``auto``: Vosk if its English model is installed, else the embedded default
(PocketSphinx, verified by the keyword classifier when its weights are present),
else the keyboard; in auto the classifier joins whichever decoder is chosen.
Naming an engine (``pocketsphinx``, ``vosk``, ``keyword``) gets that engine alone,
so each can be measured on its own.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
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


def choose_engine(requested: str = "auto", directory: Path | None = None) -> EngineChoice:
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


def build_engine(choice: EngineChoice, command_set: CommandSet, policy: Policy | None = None) -> SegmentEngine:
    """Load the models once; the result transcribes speech segments."""
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
    return CombinedEngine(command_set, decoder, classifier, policy)
