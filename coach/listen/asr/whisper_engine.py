"""The embedded engine: Whisper tiny.en decides what one endpointed segment says.

Three readings of the same encoder output, cheapest first:

1. The command head (``coach.listen.asr.keyword``) decides the words it knows, with
   rejection per context. While exercising, a word-long segment in which nothing was
   heard is read again at two more frame phases (``WhisperPolicy.phase_shifts``).
2. The decoder, constrained to the context's phrases, is asked how likely each
   phrase is as the whole transcript. It checks a command the head accepted
   without being sure (an "on" the head takes for "one", a "down" for "no"), and
   when the head ranks a command first but under its threshold, the command
   counts if the decoder is sure of the same one: the decoder needs no training,
   so it also reads phrases no recording has.
3. Speech longer than a command is transcribed freely. A transcript that is
   exactly one of the context's phrases is that command; otherwise, where pain
   can be heard, the pain intents of content/commands.yaml decide whether the
   person said, in their own words, that something hurts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from coach.content.commands import NUMBER_COMMAND, CommandSet, normalise
from coach.content.pain_intents import PainIntents, hits, match
from coach.listen.asr import Hypothesis
from coach.listen.asr.keyword import REJECT_LABELS, Decision, KeywordModel, decide, label_to_command
from coach.listen.asr.whisper import RATE_HZ, Encoded, Transcript, WhisperModel
from coach.listen.asr.native_memory import give_back_freed_memory

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_SAME_SPEECH_SECONDS = 0.25     # a final segment this much longer than its early candidate

_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
PAIN_COMMAND = "pain"


@dataclass(frozen=True)
class WhisperPolicy:
    """The measured knobs: scripts/train/tune_decoder.py on the training speakers'
    out-of-fold scores (recall of the context's words; false accepts of 400 other
    words): session 96.5 % with 0 (1 without the check), yes/no 97.9 % with 0 (4),
    numbers 96.2 % with 2 (7 with the head alone at its own threshold)."""

    # The head's probability must reach this too, on top of its own threshold.
    head_min: Mapping[str, float] = field(default_factory=lambda: {"number": 0.4})
    # A head this sure needs no check; a less sure one needs the decoder to give
    # the same command at least confirm_min (per context).
    sure_min: float = 0.5
    confirm_min: Mapping[str, float] = field(default_factory=lambda: {"session": 0.001, "yesno": 0.01,
                                                                      "number": 0.01})
    # The decoder is asked for a command the head ranks first under its threshold
    # when the head gives it at least this ...
    decode_floor: float = 0.02
    # ... and it counts when the decoder gives it at least this.
    decoder_min: float = 0.5
    # Longer segments than this (the endpointer keeps 0.3 s around the speech) are
    # also read as words. Measured on a third of the sentence set and 60 held-out
    # clips: 0.9 s heard 35 of 61 pain sentences, fired on 11 of 97 others, real-time
    # factor 0.20; 1.1 s 34, 10, 0.16; 1.3 s 32, 9, 0.11.
    sentence_min_seconds: float = 1.1
    # A transcript the decoder thinks holds no speech this likely is dropped.
    sentence_max_no_speech: float = 0.6
    # While the coach speaks, the listener asks for at least this confidence.
    strict_min: float = 0.7
    # When the head and decoder hear nothing in a command-length segment but the head
    # gives a command at least phase_floor, the head is asked again on the segment
    # started phase_shifts samples later (a third and two thirds of the 10 ms mel hop)
    # and its answers are averaged: the pooled features move with where the word
    # falls on the frame grid (in a two-hour soak a "go" heard at 0.9 was heard at
    # 0.4, or as "other", when it began 5 ms later). It can only add that command.
    # Only in phase_contexts: there a miss means saying the command again, while a
    # wrong answer to a safety or pain question could change its outcome (asked in
    # yes/no too, "down" was once taken for "no"), and a question unanswered is asked again.
    # So is a segment up to phase_max_seconds transcribed as one word at most: margins
    # make a slow word that long (a "go" cut at 1.14 s, written "turn", was missed).
    phase_shifts: tuple[int, ...] = (53, 107)
    phase_floor: float = 0.1
    phase_contexts: tuple[str, ...] = ("session",)
    phase_max_seconds: float = 1.5


class WhisperEngine:
    """A ``SegmentEngine``: one model loaded once, three readings per segment."""

    name = "whisper"

    def __init__(self, model: WhisperModel, head: KeywordModel, command_set: CommandSet,
                 pain_intents: PainIntents | None = None, policy: WhisperPolicy | None = None) -> None:
        self.model = model
        self.head = head
        self.command_set = command_set
        self.pain_intents = pain_intents
        self.policy = policy or WhisperPolicy()
        self.strict_min = self.policy.strict_min
        self._phrases = {context: _context_phrases(model, command_set, context)
                         for context in command_set.contexts}
        self._last_read: tuple[bytes, Transcript] | None = None
        self._last_decoded: tuple[Encoded, str, dict[str, float]] | None = None

    def features(self, pcm: bytes) -> np.ndarray:
        """The head's input for a segment (enrolment adapts the head on these)."""
        return self.model.encode(_samples(pcm)).pooled()

    def transcribe(self, pcm: bytes, context: str, urgent_only: bool = False,
                   over_coach: bool = False) -> Hypothesis | None:
        try:
            return self._recognise(pcm, context, over_coach)
        finally:
            give_back_freed_memory()

    def _recognise(self, pcm: bytes, context: str, over_coach: bool) -> Hypothesis | None:
        samples = _samples(pcm)
        encoded = self.model.encode(samples)
        if over_coach:
            # Only a sure word counts over the coach's voice: the head decides alone.
            # Asking the decoder and reading the coach's own sentences out cost a
            # quarter of a core with its voice looped back into the microphone.
            decision = decide(self.head, self.head.probabilities(encoded.pooled())[0], context)
            sure = decision.accepted and decision.probability >= self.policy.strict_min
            return self._hypothesis(decision.label, decision.probability) if sure else None
        seconds = len(samples) / RATE_HZ
        if seconds < self.policy.sentence_min_seconds:
            return self._command(encoded, samples, context, other_phases=True)
        hyp = self._command(encoded, samples, context, other_phases=False)
        if hyp and self._is(hyp, "stop"):
            return hyp          # "stop" is never second-guessed
        transcript = self._read(pcm, samples)
        if hyp is not None and self._is(hyp, PAIN_COMMAND):
            # The head hears the word; the sentence may say the opposite ("I'm not in pain").
            return None if self._denied(transcript.text) else hyp
        # Longer speech is read as words: pain said in them outweighs a command
        # word inside the sentence ("it's hurting again" is not "again").
        sentence = self._sentence(transcript, context)
        if sentence is not None and (hyp is None or self._is(sentence, PAIN_COMMAND)):
            return sentence
        if hyp is None and seconds < self.policy.phase_max_seconds and \
                len(normalise(_first_take(transcript.text))) <= 1:
            # Word-long speech heard as no command: read as a short segment is.
            return self._command(encoded, samples, context, other_phases=True)
        return hyp

    def _read(self, pcm: bytes, samples: np.ndarray) -> Transcript:
        """The free transcript; the listener offers the same speech twice (an early
        candidate, then the final segment a little longer), and it is read once."""
        last = self._last_read
        if last is not None and pcm.startswith(last[0]) and \
                len(pcm) - len(last[0]) <= 2 * round(_SAME_SPEECH_SECONDS * RATE_HZ):
            return last[1]
        transcript = self.model.transcribe(samples)
        self._last_read = (pcm, transcript)
        return transcript

    def _command(self, encoded: Encoded, samples: np.ndarray, context: str,
                 other_phases: bool) -> Hypothesis | None:
        """The head's reading; when it hears nothing, the head again at other frame
        phases, which may only rescue the command the first reading ranked first."""
        probabilities = self.head.probabilities(encoded.pooled())[0]
        first = decide(self.head, probabilities, context)
        hyp = self._from_head(first, encoded, context)
        if hyp is None and other_phases:
            averaged = self._phase_averaged(first, probabilities, samples, context)
            if averaged is not None:
                hyp = self._from_head(averaged, encoded, context)
        return hyp

    def _from_head(self, decision: Decision, encoded: Encoded, context: str) -> Hypothesis | None:
        """The head's decision, checked by the decoder when the head is not sure; or
        the decoder's, when the head ranks a command first under its threshold."""
        if not decision.accepted:
            return self._decoded(encoded, context, decision.scores)
        if decision.probability < self.policy.head_min.get(context, 0.0):
            return None
        if decision.probability < self.policy.sure_min and \
                self.command_probabilities(encoded, context).get(decision.label, 0.0) < \
                self.policy.confirm_min.get(context, 1.0):
            return None
        return self._hypothesis(decision.label, decision.probability)

    def _phase_averaged(self, first: Decision, probabilities: np.ndarray, samples: np.ndarray,
                        context: str) -> Decision | None:
        """The head's probabilities averaged over the segment as cut and started a
        fraction of a frame later, when that accepts the command the first reading
        ranked first; None otherwise."""
        commands = {k: v for k, v in first.scores.items() if k not in REJECT_LABELS}
        if context not in self.policy.phase_contexts or not commands:
            return None
        best = max(commands, key=lambda k: commands[k])
        if commands[best] < self.policy.phase_floor:
            return None
        shifted = [self.head.probabilities(self.model.encode(samples[shift:]).pooled())[0]
                   for shift in self.policy.phase_shifts if shift < len(samples)]
        averaged = decide(self.head, np.mean([probabilities, *shifted], axis=0), context)
        return averaged if averaged.accepted and averaged.label == best else None

    def _is(self, hyp: Hypothesis, command: str) -> bool:
        return any(p.text == hyp.text and p.command == command for p in self.command_set.phrases)

    def _denied(self, text: str) -> bool:
        """The words name pain only to deny it, ask about it or quote it."""
        if self.pain_intents is None:
            return False
        found = hits(_first_take(text), self.pain_intents)
        return bool(found) and all(h.cancelled_by is not None for h in found)

    def command_probabilities(self, encoded: Encoded, context: str) -> dict[str, float]:
        """The decoder's probability of each of the context's head labels as the
        whole transcript (phrases of one label summed)."""
        last = self._last_decoded
        if last is not None and last[0] is encoded and last[1] == context:
            return last[2]      # a re-read segment asks the decoder about the same encoding
        labels, tokens = self._phrases[context]
        out: dict[str, float] = {}
        for label, p in zip(labels, self.model.phrase_probabilities(encoded, tokens)):
            out[label] = out.get(label, 0.0) + float(p)
        self._last_decoded = (encoded, context, out)
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
        if best != first or decoded[best] < self.policy.decoder_min:
            return None
        return self._hypothesis(best, decoded[best])

    def _sentence(self, transcript: Transcript, context: str) -> Hypothesis | None:
        text = _first_take(transcript.text)
        if not text or transcript.no_speech > self.policy.sentence_max_no_speech:
            return None
        words = _without_repeats(normalise(text))
        for phrase in self.command_set.context_phrases(context):
            if phrase.words == words:
                return Hypothesis(phrase.text, transcript.probability, True, self.name, text)
        allowed = {p.command for p in self.command_set.context_phrases(context)}
        if PAIN_COMMAND in allowed and self.pain_intents is not None and match(text, self.pain_intents):
            phrase = next(p.text for p in self.command_set.phrases if p.command == PAIN_COMMAND)
            return Hypothesis(phrase, transcript.probability, True, self.name, text)
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


def _first_take(text: str) -> str:
    """The transcript up to where the decoder starts over: on a short window it
    tends to say the words again, altered ("It does not hurt. It does it hurt")."""
    sentences = [t for t in _SENTENCE_END.split(text.strip()) if t]
    if not sentences:
        return ""
    opening = normalise(sentences[0])[:2]
    kept = [sentences[0]]
    for sentence in sentences[1:]:
        if opening and normalise(sentence)[:len(opening)] == opening:
            break
        kept.append(sentence)
    return " ".join(kept)


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
