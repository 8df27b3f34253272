"""How decoder and keyword classifier are combined (coach/asr/combined.py), with fakes."""

from __future__ import annotations

import pytest

from coach.asr.combined import CombinedEngine, Hypothesis, Policy
from coach.commands import load_commands

COMMANDS = load_commands()


class FakeDecoder:
    name = "decoder"

    def __init__(self, hyp: Hypothesis | None) -> None:
        self.hyp = hyp

    def transcribe(self, pcm: bytes, context: str, urgent_only: bool = False) -> Hypothesis | None:
        return self.hyp


class FakeClassifier:
    def __init__(self, label: str, probability: float, scores: dict[str, float]) -> None:
        self.result = (label, probability, scores)
        self.contexts: list[str] = []

    def classify(self, pcm: bytes, context: str):
        self.contexts.append(context)
        return self.result


def hyp(text: str, confidence: float = 0.6, complete: bool = True) -> Hypothesis:
    return Hypothesis(text, confidence, complete, "decoder")


def test_decoder_alone_passes_whole_phrases_and_drops_partial_paths() -> None:
    assert CombinedEngine(COMMANDS, FakeDecoder(hyp("stop"))).transcribe(b"", "session").text == "stop"
    assert CombinedEngine(COMMANDS, FakeDecoder(hyp("it", complete=False))).transcribe(b"", "session") is None
    assert CombinedEngine(COMMANDS, FakeDecoder(None)).transcribe(b"", "session") is None


def test_decoder_threshold_per_context() -> None:
    policy = Policy(mode="decoder", decoder_min={"yesno": 0.7})
    engine = CombinedEngine(COMMANDS, FakeDecoder(hyp("yes", 0.6)), policy=policy)
    assert engine.transcribe(b"", "yesno") is None
    assert engine.transcribe(b"", "session") is not None


def test_classifier_decides_the_words_it_knows() -> None:
    classifier = FakeClassifier("resume", 0.9, {"resume": 0.9, "other": 0.1})
    engine = CombinedEngine(COMMANDS, FakeDecoder(hyp("next")), classifier)
    out = engine.transcribe(b"", "session")
    assert out.text == "go" and out.confidence == pytest.approx(0.9)   # "resume" said as its first phrase
    assert classifier.contexts == ["session"]


def test_number_labels_become_number_words() -> None:
    classifier = FakeClassifier("seven", 0.8, {"seven": 0.8, "other": 0.2})
    out = CombinedEngine(COMMANDS, FakeDecoder(None), classifier).transcribe(b"", "number")
    assert out.text == "seven"


def test_classifier_rejection_overrules_a_decoder_proposal_it_knows() -> None:
    classifier = FakeClassifier("other", 0.7, {"stop": 0.1, "pain": 0.05, "other": 0.7, "noise": 0.15})
    engine = CombinedEngine(COMMANDS, FakeDecoder(hyp("stop")), classifier)
    assert engine.policy.urgent_agree_min > 0.1
    assert engine.transcribe(b"", "session") is None


def test_an_urgent_word_the_classifier_ranks_first_counts_when_the_decoder_proposes_it() -> None:
    scores = {"stop": 0.02, "pain": 0.2, "next": 0.05, "other": 0.7, "noise": 0.03}
    heard = CombinedEngine(COMMANDS, FakeDecoder(hyp("that hurts", 0.97)), FakeClassifier("other", 0.7, scores))
    out = heard.transcribe(b"", "session")
    assert out.text == "that hurts" and out.confidence == pytest.approx(0.2)   # the classifier's score
    other_word = CombinedEngine(COMMANDS, FakeDecoder(hyp("stop")), FakeClassifier("other", 0.7, scores))
    assert other_word.transcribe(b"", "session") is None


def test_urgent_agreement_needs_the_floor_and_first_place() -> None:
    under = {"pain": 0.1, "other": 0.85, "noise": 0.05}
    engine = CombinedEngine(COMMANDS, FakeDecoder(hyp("it hurts")), FakeClassifier("other", 0.85, under))
    assert engine.transcribe(b"", "session") is None
    second = {"pain": 0.2, "next": 0.3, "other": 0.45, "noise": 0.05}
    engine = CombinedEngine(COMMANDS, FakeDecoder(hyp("it hurts")), FakeClassifier("other", 0.45, second))
    assert engine.transcribe(b"", "session") is None


def test_the_other_words_get_no_urgent_agreement() -> None:
    scores = {"next": 0.4, "stop": 0.05, "other": 0.5, "noise": 0.05}
    engine = CombinedEngine(COMMANDS, FakeDecoder(hyp("next")), FakeClassifier("other", 0.5, scores))
    assert engine.transcribe(b"", "session") is None


def test_decoder_and_classifier_agreeing_below_the_classifier_threshold_is_accepted() -> None:
    classifier = FakeClassifier("other", 0.5, {"stop": 0.4, "pain": 0.05, "other": 0.5, "noise": 0.05})
    engine = CombinedEngine(COMMANDS, FakeDecoder(hyp("stop")), classifier,
                            Policy(mode="verify", agree_min=0.3))
    assert engine.transcribe(b"", "session").text == "stop"


def test_noise_vetoes_a_phrase_the_classifier_does_not_know() -> None:
    scores = {"stop": 0.05, "other": 0.15, "noise": 0.8}
    engine = CombinedEngine(COMMANDS, FakeDecoder(hyp("help")), FakeClassifier("noise", 0.8, scores))
    assert engine.transcribe(b"", "session") is None
    quiet = {"stop": 0.05, "other": 0.55, "noise": 0.4}
    engine = CombinedEngine(COMMANDS, FakeDecoder(hyp("help")), FakeClassifier("other", 0.55, quiet))
    assert engine.transcribe(b"", "session").text == "help"


def test_classifier_alone_never_hears_words_outside_the_context() -> None:
    classifier = FakeClassifier("resume", 0.95, {"resume": 0.95})
    engine = CombinedEngine(COMMANDS, None, classifier)
    assert engine.policy.mode == "classifier"
    assert engine.transcribe(b"", "yesno") is None
    assert engine.transcribe(b"", "session").text == "go"


def test_strict_threshold_is_only_raised_with_a_classifier() -> None:
    assert CombinedEngine(COMMANDS, FakeDecoder(None)).strict_min == 0.0
    with_classifier = CombinedEngine(COMMANDS, FakeDecoder(None), FakeClassifier("other", 1.0, {}))
    assert with_classifier.strict_min > 0.5
    assert with_classifier.name == "decoder+keyword"


def test_needs_an_engine() -> None:
    with pytest.raises(ValueError):
        CombinedEngine(COMMANDS)


class CountingDecoder(FakeDecoder):
    def __init__(self, hyp: Hypothesis | None) -> None:
        super().__init__(hyp)
        self.calls = 0

    def transcribe(self, pcm: bytes, context: str, urgent_only: bool = False) -> Hypothesis | None:
        self.calls += 1
        return self.hyp


def test_decoder_is_not_run_when_the_classifier_knows_every_word_of_the_context() -> None:
    every = {label: 0.0 for label in ("yes", "no", "not_sure", "repeat", "stop", "pain")}
    decoder = CountingDecoder(hyp("yes"))
    engine = CombinedEngine(COMMANDS, decoder, FakeClassifier("other", 0.9, {**every, "other": 0.9, "noise": 0.1}))
    assert engine.transcribe(b"", "yesno") is None and decoder.calls == 0
    partial = {k: v for k, v in every.items() if k != "not_sure"}
    engine = CombinedEngine(COMMANDS, decoder, FakeClassifier("other", 0.6, {**partial, "other": 0.6, "noise": 0.1}))
    assert engine.transcribe(b"", "yesno") is None and decoder.calls == 1   # "yes" is the classifier's to veto
    decoder.hyp = hyp("not sure")
    assert engine.transcribe(b"", "yesno").text == "not sure"


def test_decoder_is_run_only_when_agreement_could_accept_the_classifiers_first_command() -> None:
    every = {label: 0.01 for label in ("yes", "no", "not_sure", "repeat", "stop", "pain")}
    decoder = CountingDecoder(hyp("stop"))
    yes_first = CombinedEngine(COMMANDS, decoder, FakeClassifier("other", 0.6, {**every, "yes": 0.3, "other": 0.6}))
    assert yes_first.transcribe(b"", "yesno") is None and decoder.calls == 0
    stop_first = CombinedEngine(COMMANDS, decoder, FakeClassifier("other", 0.6, {**every, "stop": 0.3, "other": 0.6}))
    assert stop_first.transcribe(b"", "yesno").text == "stop" and decoder.calls == 1


def test_classifier_confidence_is_its_probability() -> None:
    engine = CombinedEngine(COMMANDS, None, FakeClassifier("stop", 0.83, {"stop": 0.83}))
    assert engine.transcribe(b"", "session").confidence == pytest.approx(0.83)
