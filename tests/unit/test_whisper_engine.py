"""How the Whisper engine combines its three readings (coach/listen/asr/whisper_engine.py),
with a scripted model in place of Whisper: the rules, not the recognizer."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from coach.content.commands import load_commands
from coach.listen.asr.keyword import KeywordModel
from coach.listen.asr.whisper import Encoded, Transcript
from coach.listen.asr.whisper_engine import WhisperEngine, WhisperPolicy

COMMANDS = load_commands()
LABELS = ("stop", "pain", "next", "repeat", "resume", "yes", "no", "three", "other", "noise")


@dataclass
class ScriptedModel:
    """Stands in for WhisperModel: the head sees ``head_label`` with ``head_p``; the
    decoder gives ``decoded`` its probability; free transcription says ``words``."""

    head_label: str = "other"
    head_p: float = 0.9
    decoded: dict[str, float] = field(default_factory=dict)
    words: str = ""
    no_speech: float = 0.05
    calls: list[str] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)

    def token_ids(self, text: str) -> list[int]:
        return [self.ids.setdefault(text, len(self.ids))]

    def encode(self, samples: np.ndarray, window_seconds: float = 2.0) -> Encoded:
        self.calls.append("encode")
        onehot = np.zeros(len(LABELS))
        onehot[LABELS.index(self.head_label)] = 1.0
        return Encoded(onehot[None, :], len(samples) / 16000)

    def phrase_probabilities(self, encoded: Encoded, phrases: list[list[int]]) -> np.ndarray:
        self.calls.append("decode")
        return np.array([self.decoded.get(text, 0.0) for text in self._texts(phrases)])

    def transcribe(self, samples: np.ndarray) -> Transcript:
        self.calls.append("transcribe")
        return Transcript(self.words, 0.9, self.no_speech)

    def _texts(self, phrases: list[list[int]]) -> list[str]:
        """The phrase each token list spells; only the lower-case spelling is scored."""
        by_id = {i: text.strip() for text, i in self.ids.items() if text.strip().islower()}
        return [by_id.get(p[0], "") for p in phrases]


def head_model(head_p: float) -> KeywordModel:
    """A head whose pooled input (max and mean of the one-hot row) picks its label
    with probability ``head_p``, the rest spread evenly."""
    n = len(LABELS)
    logit = np.log(head_p / ((1.0 - head_p) / (n - 1)))
    w = np.vstack([np.eye(n) * logit, np.zeros((n, n))])
    thresholds = {"session": 0.6, "yesno": 0.6, "number": 0.6}
    return KeywordModel(LABELS, np.zeros(2 * n), np.ones(2 * n), ((w, np.zeros(n)),), thresholds, {})


def engine(model: ScriptedModel, policy: WhisperPolicy | None = None) -> WhisperEngine:
    return WhisperEngine(model, head_model(model.head_p), COMMANDS, COMMANDS.pain_intents,  # type: ignore[arg-type]
                         policy or WhisperPolicy())


def pcm(seconds: float) -> bytes:
    return np.full(round(seconds * 16000), 1000, dtype="<i2").tobytes()


def test_the_head_decides_the_words_it_is_sure_of_without_the_decoder() -> None:
    model = ScriptedModel("stop", 0.95)
    hyp = engine(model).transcribe(pcm(0.5), "session")
    assert hyp is not None and hyp.text == "stop" and hyp.confidence == pytest.approx(0.95, abs=0.01)
    assert model.calls == ["encode"]


def test_an_unsure_head_counts_when_the_decoder_is_sure_of_the_same_command() -> None:
    model = ScriptedModel("stop", 0.4, decoded={"stop": 0.7})
    hyp = engine(model).transcribe(pcm(0.5), "session")
    assert hyp is not None and hyp.text == "stop" and hyp.confidence == pytest.approx(0.7)


def test_the_decoder_alone_is_not_enough() -> None:
    disagree = ScriptedModel("stop", 0.4, decoded={"next": 0.9})
    unsure = ScriptedModel("stop", 0.4, decoded={"stop": 0.3})
    assert engine(disagree).transcribe(pcm(0.5), "session") is None
    assert engine(unsure).transcribe(pcm(0.5), "session") is None


def test_the_decoder_reads_numbers_with_their_value() -> None:
    model = ScriptedModel("three", 0.4, decoded={"three": 0.8})
    hyp = engine(model).transcribe(pcm(0.5), "number")
    assert hyp is not None and hyp.text == "three"


def test_a_head_sure_of_nothing_does_not_wake_the_decoder() -> None:
    model = ScriptedModel("noise", 0.99, decoded={"stop": 0.9})
    assert engine(model).transcribe(pcm(0.5), "session") is None
    assert "decode" not in model.calls


@pytest.mark.parametrize("words", ["My back really hurts.", "Ow, that's painful!", "My hip is killing me"])
def test_pain_in_a_persons_own_words_is_pain_with_their_words(words: str) -> None:
    hyp = engine(ScriptedModel(words=words)).transcribe(pcm(1.5), "session")
    assert hyp is not None and hyp.text == "pain" and hyp.transcript == words
    assert engine(ScriptedModel(words=words)).transcribe(pcm(1.5), "yesno").text == "pain"


@pytest.mark.parametrize("words", ["It doesn't hurt anymore.", "No pain at all today.",
                                   "If you feel sharp pain, stop.", "Stop by the shop on your way home.",
                                   "Keep going like that."])
def test_other_sentences_are_nothing(words: str) -> None:
    assert engine(ScriptedModel(words=words)).transcribe(pcm(1.5), "session") is None


def test_a_transcript_that_is_exactly_a_phrase_is_that_command() -> None:
    hyp = engine(ScriptedModel(words="Stop. Stop. Stop.")).transcribe(pcm(1.5), "session")
    assert hyp is not None and hyp.text == "stop"
    assert engine(ScriptedModel(words="Say that again?")).transcribe(pcm(1.5), "yesno").text == "say that again"


def test_short_segments_and_no_speech_are_not_transcribed_into_commands() -> None:
    short = ScriptedModel(words="It hurts so much")
    assert engine(short).transcribe(pcm(0.5), "session") is None and "transcribe" not in short.calls
    silent = ScriptedModel(words="My back hurts", no_speech=0.9)
    assert engine(silent).transcribe(pcm(1.5), "session") is None


def test_without_pain_intents_free_speech_is_never_pain() -> None:
    model = ScriptedModel(words="My back really hurts.")
    bare = WhisperEngine(model, head_model(0.9), COMMANDS, None)  # type: ignore[arg-type]
    assert bare.transcribe(pcm(1.5), "session") is None


def test_a_head_accepting_without_being_sure_needs_the_decoder_to_agree() -> None:
    policy = WhisperPolicy(sure_min=0.9, confirm_min={"yesno": 0.001})
    doubted = ScriptedModel("no", 0.7, decoded={"no": 0.0005})
    confirmed = ScriptedModel("no", 0.7, decoded={"no": 0.01})
    assert engine(doubted, policy).transcribe(pcm(0.5), "yesno") is None
    hyp = engine(confirmed, policy).transcribe(pcm(0.5), "yesno")
    assert hyp is not None and hyp.text == "no" and hyp.confidence == pytest.approx(0.7, abs=0.01)


def test_a_context_can_ask_more_of_the_head() -> None:
    model = ScriptedModel("three", 0.7, decoded={"three": 0.9})
    assert engine(model, WhisperPolicy(head_min={"number": 0.8})).transcribe(pcm(0.5), "number") is None
    assert engine(model, WhisperPolicy(head_min={"number": 0.6})).transcribe(pcm(0.5), "number").text == "three"


def test_pain_in_a_sentence_outweighs_a_command_word_inside_it() -> None:
    model = ScriptedModel("repeat", 0.95, words="It's hurting again.")
    hyp = engine(model).transcribe(pcm(1.5), "session")
    assert hyp is not None and hyp.text == "pain" and hyp.transcript == "It's hurting again."
    plain = ScriptedModel("repeat", 0.95, words="Could you say it again?")
    assert engine(plain).transcribe(pcm(1.5), "session").text == "repeat"


def test_an_urgent_word_from_the_head_needs_no_transcript() -> None:
    model = ScriptedModel("stop", 0.95, words="Stop by the shop.")
    assert engine(model).transcribe(pcm(1.5), "session").text == "stop"
    assert "transcribe" not in model.calls


@pytest.mark.parametrize("words,pain", [("I'm not in pain.", False), ("If something hurts, say pain.", False),
                                        ("Oh, the pain.", True), ("Pain!", True), ("", True)])
def test_the_head_hearing_pain_in_a_sentence_that_denies_it_is_nothing(words: str, pain: bool) -> None:
    hyp = engine(ScriptedModel("pain", 0.95, words=words)).transcribe(pcm(1.5), "session")
    assert (hyp is not None and hyp.text == "pain") is pain


def test_a_transcript_that_starts_over_is_read_up_to_where_it_does() -> None:
    """Whisper on a short window may repeat itself with changes; only the first take counts."""
    assert engine(ScriptedModel(words="It does not hurt. It does it hurt, it does")).transcribe(
        pcm(1.5), "session") is None
    hyp = engine(ScriptedModel(words="Ow. My back hurts. Ow.")).transcribe(pcm(1.5), "session")
    assert hyp is not None and hyp.transcript == "Ow. My back hurts."


def test_the_same_speech_offered_twice_is_read_once() -> None:
    """The listener gives an early candidate, then the final segment a little longer."""
    model = ScriptedModel(words="My back really hurts.")
    coach_engine = engine(model)
    early = np.arange(round(1.5 * 16000), dtype="<i2").tobytes()
    final = early + bytes(2 * round(0.2 * 16000))
    assert coach_engine.transcribe(early, "session").text == "pain"
    assert coach_engine.transcribe(final, "session").text == "pain"
    assert model.calls.count("transcribe") == 1
    coach_engine.transcribe(final + bytes(2 * 16000), "session")       # longer: new speech
    assert model.calls.count("transcribe") == 2


def test_over_the_coachs_voice_only_the_head_counts() -> None:
    model = ScriptedModel(words="My back really hurts.")
    assert engine(model).transcribe(pcm(1.5), "session", over_coach=True) is None
    assert "transcribe" not in model.calls
    sure = ScriptedModel("stop", 0.95)
    assert engine(sure).transcribe(pcm(1.5), "session", over_coach=True).text == "stop"


def test_over_the_coachs_voice_the_head_must_be_sure_and_the_decoder_is_not_asked() -> None:
    unsure = ScriptedModel("stop", 0.6, decoded={"stop": 0.9})
    assert engine(unsure).transcribe(pcm(0.5), "session", over_coach=True) is None
    assert "decode" not in unsure.calls


@dataclass
class PhaseModel(ScriptedModel):
    """The head's certainty changes with where the segment starts: ``scales[k]`` for
    the k-th encoding (the segment as cut, then each phase shift)."""

    scales: tuple[float, ...] = (1.0,)

    def encode(self, samples: np.ndarray, window_seconds: float = 2.0) -> Encoded:
        encoded = super().encode(samples, window_seconds)
        scale = self.scales[min(self.calls.count("encode") - 1, len(self.scales) - 1)]
        return Encoded(encoded.states * scale, encoded.audio_seconds)


def test_an_unsure_head_is_asked_again_at_other_frame_phases_and_averaged() -> None:
    # Alone, the segment as cut gives "go" 0.27 (under the 0.6 threshold); started a
    # third or two thirds of a frame later, 0.93: averaged, 0.71.
    model = PhaseModel("resume", 0.55, scales=(0.5, 2.0, 2.0))
    hyp = engine(model).transcribe(pcm(0.5), "session")
    assert hyp is not None and hyp.text == "go" and hyp.confidence == pytest.approx(0.71, abs=0.01)
    assert model.calls == ["encode", "decode", "encode", "encode"]     # after the first reading's decoder


def test_without_the_other_phases_the_same_segment_is_missed() -> None:
    model = PhaseModel("resume", 0.55, scales=(0.5, 2.0, 2.0))
    assert engine(model, WhisperPolicy(phase_shifts=())).transcribe(pcm(0.5), "session") is None


def test_a_head_that_hears_no_command_is_not_asked_again() -> None:
    model = PhaseModel("other", 0.9, scales=(1.0,))
    assert engine(model).transcribe(pcm(0.5), "session") is None
    assert model.calls.count("encode") == 1


def test_answers_to_questions_keep_the_single_reading() -> None:
    """A wrong answer to a safety question costs more than asking it again."""
    model = PhaseModel("yes", 0.55, scales=(0.5, 2.0, 2.0))
    assert engine(model).transcribe(pcm(0.5), "yesno") is None
    assert model.calls.count("encode") == 1


def test_a_command_the_first_reading_heard_is_not_read_again() -> None:
    # As cut, "stop" at 0.62: accepted but, with sure_min 0.9, unsure; the decoder
    # confirms it (0.3 is enough to confirm, not to decide alone). The phases (0.2)
    # are never asked.
    model = PhaseModel("stop", 0.62, decoded={"stop": 0.3}, scales=(1.0, 0.3, 0.3))
    hyp = engine(model, WhisperPolicy(sure_min=0.9)).transcribe(pcm(0.5), "session")
    assert hyp is not None and hyp.text == "stop" and hyp.confidence == pytest.approx(0.62, abs=0.01)
    assert model.calls.count("encode") == 1


def test_speech_transcribed_into_words_is_not_read_at_other_phases() -> None:
    model = PhaseModel("resume", 0.55, scales=(0.5, 2.0, 2.0), words="Going on.")
    assert engine(model).transcribe(pcm(1.2), "session") is None
    assert model.calls.count("encode") == 1 and "transcribe" in model.calls


@pytest.mark.parametrize("words", ["", "Turn."])
def test_a_slow_word_written_down_as_one_word_at_most_is_read_at_other_phases(words: str) -> None:
    # Long enough to be transcribed (1.2 s), but the transcript is one word at most
    # (a "go" once came out as "turn"): a word the endpointer's margins made long,
    # read as a short segment is.
    model = PhaseModel("resume", 0.55, scales=(0.5, 2.0, 2.0), words=words)
    hyp = engine(model).transcribe(pcm(1.2), "session")
    assert hyp is not None and hyp.text == "go"
    assert model.calls == ["encode", "decode", "transcribe", "encode", "encode"]


def test_speech_longer_than_a_word_is_not_read_at_other_phases() -> None:
    model = PhaseModel("resume", 0.55, scales=(0.5, 2.0, 2.0))
    assert engine(model).transcribe(pcm(1.5), "session") is None
    assert model.calls.count("encode") == 1 and "transcribe" in model.calls


@dataclass
class SwitchingModel(ScriptedModel):
    """As cut, the head hears ``head_label``; at the other phases, ``later_label``."""

    later_label: str = "next"
    later_p: float = 0.95

    def encode(self, samples: np.ndarray, window_seconds: float = 2.0) -> Encoded:
        first = not self.calls.count("encode")
        encoded = super().encode(samples, window_seconds)
        if first:
            return encoded
        index = {label: i for i, label in enumerate(LABELS)}
        onehot = np.zeros(len(LABELS))
        logit = lambda p: np.log(p / ((1 - p) / (len(LABELS) - 1)))  # noqa: E731
        onehot[index[self.later_label]] = logit(self.later_p) / logit(self.head_p)
        return Encoded(onehot[None, :], encoded.audio_seconds)


def test_the_other_phases_only_rescue_the_command_the_first_reading_ranked_first() -> None:
    # As cut: pain at 0.62, accepted but unsure (sure_min 0.9), and the decoder does
    # not confirm it; the other phases hear "next" surely, enough to win the average,
    # and the decoder would confirm "next". Nothing is heard.
    model = SwitchingModel("pain", 0.62, decoded={"next": 0.3}, later_label="next", later_p=0.999)
    assert engine(model, WhisperPolicy(sure_min=0.9)).transcribe(pcm(0.5), "session") is None
    assert model.calls.count("encode") == 3


def test_a_re_read_segment_asks_the_decoder_once() -> None:
    model = PhaseModel("resume", 0.55, decoded={"resume": 0.3}, scales=(0.5, 2.0, 2.0))
    hyp = engine(model, WhisperPolicy(sure_min=0.9)).transcribe(pcm(0.5), "session")
    assert hyp is not None and hyp.text == "go"
    assert model.calls.count("decode") == 1
