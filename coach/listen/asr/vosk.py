"""Vosk adapter: the product's named engine when its English model is installed.

Grammar mode: the recognizer may only output the context's phrases or "[unk]",
which soaks up every other word. Urgent words are acted on from partial results,
before the decoder has settled on a final one.
"""

from __future__ import annotations

import json
from pathlib import Path

from coach.listen.asr import Hypothesis
from coach.content.commands import CommandSet, normalise, vosk_grammar
from coach.errors import ModelError

SAMPLE_RATE_HZ = 16_000
BLOCK_BYTES = 3200      # 100 ms: the granularity of partial results
UNKNOWN = "[unk]"


def is_vosk_model(path: Path) -> bool:
    """A Vosk model folder has am/ (acoustic model) and conf/model.conf."""
    return (path / "am").is_dir() and (path / "conf" / "model.conf").is_file()


class VoskEngine:
    """Decodes speech segments with a grammar recognizer per context."""

    name = "vosk"

    def __init__(self, command_set: CommandSet, model_path: Path | str) -> None:
        model_path = Path(model_path)
        if not is_vosk_model(model_path):
            raise ModelError("model-missing", f"no Vosk model in {model_path} (try: coach models fetch)")
        try:
            import vosk
        except ImportError as error:  # pragma: no cover - vosk is a dependency
            raise ModelError("engine-missing", f"Vosk is not installed: {error}") from error
        vosk.SetLogLevel(-1)
        self._vosk = vosk
        self.command_set = command_set
        self.model_path = model_path
        self._model = vosk.Model(str(model_path))
        self._phrases = {p.words for p in command_set.phrases}
        self._urgent = {p.words for p in command_set.phrases if command_set.is_urgent(p.command)}
        self._recognizers: dict[tuple[str, bool], object] = {}

    def _recognizer(self, context: str, urgent_only: bool):
        key = (context, urgent_only)
        if key not in self._recognizers:
            grammar = vosk_grammar(self.command_set, context, urgent_only)
            recognizer = self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE_HZ, grammar)
            recognizer.SetWords(True)
            self._recognizers[key] = recognizer
        return self._recognizers[key]

    def transcribe(self, pcm: bytes, context: str, urgent_only: bool = False,
                   over_coach: bool = False) -> Hypothesis | None:
        recognizer = self._recognizer(context, urgent_only)
        results: list[dict] = []
        for offset in range(0, len(pcm), BLOCK_BYTES):
            if recognizer.AcceptWaveform(pcm[offset:offset + BLOCK_BYTES]):
                results.append(json.loads(recognizer.Result()))
        results.append(json.loads(recognizer.FinalResult()))
        return self._from_results(results)

    def partial_urgent(self, pcm_so_far: bytes, context: str) -> Hypothesis | None:
        """An urgent phrase that the partial result of unfinished speech already
        consists of (a partial "stop" while "stop the session" goes on counts;
        "stop" followed by unknown words does not)."""
        recognizer = self._recognizer(context, True)
        early = None
        for offset in range(0, len(pcm_so_far), BLOCK_BYTES):
            if not recognizer.AcceptWaveform(pcm_so_far[offset:offset + BLOCK_BYTES]) and early is None:
                early = self._urgent_partial(json.loads(recognizer.PartialResult()))
        recognizer.FinalResult()    # resets the recognizer for the next segment
        return early

    def _urgent_partial(self, partial: dict) -> Hypothesis | None:
        words = normalise(partial.get("partial", "").replace(UNKNOWN, " "))
        if words and words in self._urgent and UNKNOWN not in partial.get("partial", ""):
            return Hypothesis(" ".join(words), 0.5, True, self.name)
        return None

    def _from_results(self, results: list[dict]) -> Hypothesis | None:
        words: list[dict] = [w for r in results for w in r.get("result", [])]
        text = " ".join(r.get("text", "") for r in results).split()
        if not text:
            return None
        unknown = sum(1 for w in text if w == UNKNOWN)
        heard = normalise(" ".join(w for w in text if w != UNKNOWN))
        confs = [float(w.get("conf", 0.0)) for w in words if w.get("word") != UNKNOWN]
        confidence = min(confs) if confs else 0.0
        return Hypothesis(
            text=" ".join(heard) if heard else UNKNOWN,
            confidence=confidence,
            complete=bool(heard) and heard in self._phrases and unknown == 0,
            engine=self.name,
        )
