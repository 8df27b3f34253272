"""How the engines are combined on one speech segment: the single place where that
choice is made.

A decoder (PocketSphinx, Vosk) proposes words restricted to the context's grammar;
a keyword classifier on a speech embedding (``coach.asr.keyword``, when present)
decides or rejects. The policy is one small, measured table:

- ``decoder``: the decoder alone; a hypothesis that is not a whole phrase, or
  whose confidence is under the context's threshold, is rejected.
- ``classifier``: the classifier alone (words it was not trained on are never heard).
- ``verify`` (default when a classifier exists): the classifier decides the words it
  knows; an urgent word it ranks first among the commands but scores under its
  threshold still counts when the decoder, asked then, proposes the same word (the
  classifier learnt pain phrases from synthetic voices only, and a natural voice
  saying "that hurts" can score 0.01 while the decoder hears it); for phrases it was
  not trained on, the decoder proposes and the classifier may veto a segment it
  calls noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from coach.commands import NUMBER_COMMAND, CommandSet, normalise

_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_REJECT_LABELS = frozenset({"", "other", "noise", "_noise_", "unknown", "_unknown_"})


@dataclass(frozen=True)
class Hypothesis:
    """What an engine heard in one segment. ``complete`` is False for a partial path."""

    text: str
    confidence: float
    complete: bool = True
    engine: str = ""


class SegmentEngine(Protocol):
    name: str

    def transcribe(self, pcm: bytes, context: str, urgent_only: bool = False) -> Hypothesis | None: ...


class KeywordModel(Protocol):
    """coach.asr.keyword.KeywordClassifier: label None/"other"/"noise" means reject."""

    def classify(self, pcm: bytes, context: str) -> tuple[str | None, float, Mapping[str, float]]: ...


@dataclass(frozen=True)
class Policy:
    mode: str = "decoder"   # decoder | classifier | verify
    # Minimum decoder confidence per context (measured on the development set).
    decoder_min: Mapping[str, float] = field(default_factory=lambda: {})
    classifier_min: float = 0.0     # the classifier applies its own per-context thresholds
    # In verify mode a decoder-only phrase is dropped when the classifier gives
    # noise or another command at least this probability.
    veto_min: float = 0.6
    # In verify mode a word the classifier knows but scored under its threshold
    # still counts when the decoder proposed it and the classifier ranks it first
    # among commands with at least this probability (1.0: never).
    agree_min: float = 1.0      # measured: no gain for the other words
    # ... the same for urgent words. Chosen on the training speakers' out-of-fold
    # scores: "stop" +1 of 101 clips, false accepts on other words +1 of 764 in
    # each context; 0.10 added wrong urgent commands.
    urgent_agree_min: float = 0.15
    # While the coach speaks the listener asks for at least this confidence.
    # PocketSphinx's posterior does not separate hits from false hits (measured),
    # so alone it gets no extra bar; the classifier's probability does.
    strict_min: float = 0.0


class CombinedEngine:
    """Runs the decoder and/or classifier on a segment and returns one hypothesis."""

    def __init__(self, command_set: CommandSet, decoder: SegmentEngine | None = None,
                 classifier: KeywordModel | None = None, policy: Policy | None = None) -> None:
        if decoder is None and classifier is None:
            raise ValueError("need a decoder, a classifier or both")
        self.command_set = command_set
        self.decoder = decoder
        self.classifier = classifier
        default_mode = "verify" if classifier and decoder else ("classifier" if classifier else "decoder")
        self.policy = policy or Policy(mode=default_mode, strict_min=0.7 if classifier else 0.0)
        self.strict_min = self.policy.strict_min
        names = [e.name for e in (decoder,) if e] + (["keyword"] if classifier else [])
        self.name = "+".join(names)
        self._label_text = _label_texts(command_set)

    def transcribe(self, pcm: bytes, context: str, urgent_only: bool = False) -> Hypothesis | None:
        mode = self.policy.mode
        if mode == "decoder" or self.classifier is None:
            return self._decode(pcm, context, urgent_only)
        label, probability, scores = self.classifier.classify(pcm, context)
        known = self._known(label, context, urgent_only)
        # The classifier decides the words it knows ...
        if known is not None and probability >= self.policy.classifier_min:
            return Hypothesis(known.text, float(probability), True, self.name)
        if mode == "classifier" or not self._decoder_can_add(context, scores):
            return None     # (measured: the decoder then adds nothing but CPU)
        proposal = self._decode(pcm, context, urgent_only)
        if proposal is None:
            return None
        proposed = self._label_for(proposal.text)
        if proposed in scores:
            # ... a word it knows but was unsure of counts when both agree on it ...
            rivals = [v for k, v in scores.items() if k not in (proposed, "other", "noise")]
            agreed = scores[proposed] >= self._agree_min(proposed) and all(scores[proposed] > v for v in rivals)
            return Hypothesis(proposal.text, float(scores[proposed]), True, self.name) if agreed else None
        # ... and a phrase it was not trained on passes unless the segment sounds like noise.
        if scores.get("noise", 0.0) >= self.policy.veto_min:
            return None
        return proposal

    def _decoder_can_add(self, context: str, scores: Mapping[str, float]) -> bool:
        """Only for phrases the classifier has no label for, or when the classifier's
        first command is one agreement could accept."""
        if self.decoder is None:
            return False
        commands = [k for k in scores if k not in _REJECT_LABELS]
        if commands:
            first = max(commands, key=lambda k: scores[k])
            if scores[first] >= self._agree_min(first):
                return True
        labels = {self._label_for(p.text) for p in self.command_set.context_phrases(context)}
        return bool(labels - set(scores))

    def _agree_min(self, label: str) -> float:
        urgent = self.command_set.is_urgent(label)
        return self.policy.urgent_agree_min if urgent else self.policy.agree_min

    def _decode(self, pcm: bytes, context: str, urgent_only: bool) -> Hypothesis | None:
        if self.decoder is None:
            return None
        hyp = self.decoder.transcribe(pcm, context, urgent_only)
        if hyp is None or not hyp.complete:
            return None
        if hyp.confidence < self.policy.decoder_min.get(context, 0.0):
            return None
        return hyp

    def _known(self, label: Any, context: str, urgent_only: bool) -> Hypothesis | None:
        if not isinstance(label, str) or label.lower() in _REJECT_LABELS:
            return None
        text = self._label_text.get(label.lower(), label.lower())
        allowed = {p.words for p in self.command_set.context_phrases(context, urgent_only)}
        if normalise(text) not in allowed:
            return None
        return Hypothesis(text, 1.0, True, self.name)

    def _label_for(self, text: str) -> str | None:
        """The classifier label of a phrase: its command, or the number word."""
        words = normalise(text)
        for phrase in self.command_set.phrases:
            if phrase.words == words:
                if phrase.command == NUMBER_COMMAND and phrase.value is not None:
                    return _NUMBER_WORDS[phrase.value]
                return phrase.command
        return None


def _label_texts(command_set: CommandSet) -> dict[str, str]:
    """Classifier label → phrase text: a phrase stands for itself, a command name
    for its first phrase (``go`` → ``go``; ``resume`` → ``go``), ``three`` → number 3."""
    out: dict[str, str] = {}
    for phrase in command_set.phrases:
        out.setdefault(phrase.text, phrase.text)
        if phrase.command != NUMBER_COMMAND:
            out.setdefault(phrase.command, phrase.text)
    return out
