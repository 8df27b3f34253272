"""The embedded engine: Whisper tiny.en decides what one endpointed segment says.

Three readings of the same encoder output, cheapest first:

1. The command head (``coach.listen.asr.keyword``) decides the words it knows, with
   rejection per context.
2. When the head ranks a command first but is unsure, the decoder, constrained
   to the context's phrases, is asked how likely each phrase is as the whole
   transcript; the command counts when the decoder is sure of the same command.
   The decoder needs no training, so it also reads phrases no recording has.
3. Speech longer than a command is transcribed freely. A transcript that is
   exactly one of the context's phrases is that command; otherwise, where pain
   can be heard, the pain intents of content/commands.yaml decide whether the
   person said, in their own words, that something hurts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from coach.listen.asr import Hypothesis
from coach.listen.asr.keyword import REJECT_LABELS, KeywordModel, decide, label_to_command
from coach.listen.asr.whisper import RATE_HZ, Encoded, WhisperModel
from coach.content.commands import NUMBER_COMMAND, CommandSet, normalise

_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
PAIN_COMMAND = "pain"


@dataclass(frozen=True)
class WhisperPolicy:
    """The measured knobs (scripts/train/train_head.py and bench/recognition.py)."""

    # The decoder is asked when the head's first command has at least this probability.
    decode_floor: float = 0.02
    # The decoder's probability of a command (summed over its phrases) that, with
    # the head ranking the same command first, makes it count; per context.
    decoder_min: Mapping[str, float] = field(default_factory=lambda: {"session": 0.5, "yesno": 0.5,
                                                                      "number": 0.5})
    # Longer segments than this are transcribed when no command was decided.
    sentence_min_seconds: float = 0.9
    # A transcript the decoder thinks holds no speech this likely is dropped.
    sentence_max_no_speech: float = 0.6
    # While the coach speaks, the listener asks for at least this confidence.
    strict_min: float = 0.7


class WhisperEngine:
    """A ``SegmentEngine``: one model loaded once, three readings per segment."""

    name = "whisper"

    def __init__(self, model: WhisperModel, head: KeywordModel, command_set: CommandSet,
                 pain_match: Callable[[str], object | None] | None = None,
                 policy: WhisperPolicy | None = None) -> None:
        self.model = model
        self.head = head
        self.command_set = command_set
        self.pain_match = pain_match
        self.policy = policy or WhisperPolicy()
        self.strict_min = self.policy.strict_min
        self._phrases = {context: _context_phrases(model, command_set, context)
                         for context in command_set.contexts}

    def features(self, pcm: bytes) -> np.ndarray:
        """The head's input for a segment (enrolment adapts the head on these)."""
        return self.model.encode(_samples(pcm)).pooled()

    def transcribe(self, pcm: bytes, context: str, urgent_only: bool = False) -> Hypothesis | None:
        samples = _samples(pcm)
        encoded = self.model.encode(samples)
        decision = decide(self.head, self.head.probabilities(encoded.pooled())[0], context)
        if decision.accepted:
            return self._hypothesis(decision.label, decision.probability)
        hyp = self._decoded(encoded, context, decision.scores)
        if hyp is None and len(samples) / RATE_HZ >= self.policy.sentence_min_seconds:
            hyp = self._sentence(samples, context)
        return hyp

    def command_probabilities(self, encoded: Encoded, context: str) -> dict[str, float]:
        """The decoder's probability of each of the context's head labels as the
        whole transcript (phrases of one label summed)."""
        labels, tokens = self._phrases[context]
        out: dict[str, float] = {}
        for label, p in zip(labels, self.model.phrase_probabilities(encoded, tokens)):
            out[label] = out.get(label, 0.0) + float(p)
        return out

    def _decoded(self, encoded: Encoded, context: str, scores: Mapping[str, float]) -> Hypothesis | None:
        commands = {k: v for k, v in scores.items() if k not in REJECT_LABELS}
        if not commands:
            return None
        first = max(commands, key=lambda k: commands[k])
        if commands[first] < self.policy.decode_floor:
            return None
        decoded = self.command_probabilities(encoded, context)
        best = max(decoded, key=lambda k: decoded[k])
        if best != first or decoded[best] < self.policy.decoder_min.get(context, 1.0):
            return None
        return self._hypothesis(best, decoded[best])

    def _sentence(self, samples: np.ndarray, context: str) -> Hypothesis | None:
        transcript = self.model.transcribe(samples)
        if not transcript.text or transcript.no_speech > self.policy.sentence_max_no_speech:
            return None
        words = _without_repeats(normalise(transcript.text))
        for phrase in self.command_set.context_phrases(context):
            if phrase.words == words:
                return Hypothesis(phrase.text, transcript.probability, True, self.name, transcript.text)
        allowed = {p.command for p in self.command_set.context_phrases(context)}
        if PAIN_COMMAND in allowed and self.pain_match is not None and self.pain_match(transcript.text):
            text = next(p.text for p in self.command_set.phrases if p.command == PAIN_COMMAND)
            return Hypothesis(text, transcript.probability, True, self.name, transcript.text)
        return None

    def _hypothesis(self, label: str, probability: float) -> Hypothesis | None:
        command, value = label_to_command(label)
        if command is None:
            return None
        for phrase in self.command_set.phrases:
            if phrase.command == command and phrase.value == value:
                return Hypothesis(phrase.text, float(probability), True, self.name)
        return None


def _samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def _without_repeats(words: tuple[str, ...]) -> tuple[str, ...]:
    """"stop stop stop" says stop: a repeated word is one word."""
    return tuple(w for i, w in enumerate(words) if i == 0 or w != words[i - 1])


def _context_phrases(model: WhisperModel, command_set: CommandSet, context: str
                     ) -> tuple[list[str], list[list[int]]]:
    """Head label and token ids of every way the decoder may write a context's
    phrase: as spoken, capitalised, and a number as digits."""
    labels, tokens = [], []
    for phrase in command_set.context_phrases(context):
        if phrase.command == NUMBER_COMMAND and phrase.value is not None:
            label = _NUMBER_WORDS[phrase.value]
            spellings = {phrase.text, phrase.text.capitalize(), str(phrase.value)}
        else:
            label = phrase.command
            spellings = {phrase.text, phrase.text.capitalize()}
        for spelling in sorted(spellings):
            labels.append(label)
            tokens.append(model.token_ids(" " + spelling))
    return labels, tokens
