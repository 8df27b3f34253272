"""Context restriction and rejection of the keyword decision, on a fake model."""

from __future__ import annotations

import numpy as np
import pytest

from coach.listen.asr.keyword import CONTEXTS, KeywordModel, decide, label_to_command

LABELS = ("stop", "pain", "resume", "yes", "no", "three", "other", "noise")


def model(thresholds=None) -> KeywordModel:
    n = len(LABELS)
    return KeywordModel(LABELS, np.zeros(n), np.ones(n), ((np.eye(n), np.zeros(n)),),
                        thresholds or {c: 0.5 for c in CONTEXTS}, {})


def probs(**p: float) -> np.ndarray:
    return np.array([p.get(label, 0.0) for label in LABELS])


def test_go_is_resume_in_session_but_other_while_answering_yes_no():
    p = probs(resume=0.8, other=0.1, noise=0.1)
    assert decide(model(), p, "session").label == "resume"
    d = decide(model(), p, "yesno")
    assert d.label == "other" and not d.accepted
    assert d.scores["other"] == pytest.approx(0.9)


def test_below_threshold_is_rejected_as_the_likelier_reject_class():
    p = probs(stop=0.45, noise=0.35, other=0.2)
    assert decide(model(), p, "session").label == "noise"
    assert decide(model({"session": 0.4}), p, "session").label == "stop"


def test_scores_cover_context_labels_plus_reject_classes_and_sum_to_one():
    d = decide(model(), probs(three=0.7, yes=0.2, other=0.1), "number")
    expected = {label for label in CONTEXTS["number"] if label in LABELS} | {"other", "noise"}
    assert set(d.scores) == expected and "yes" not in d.scores
    assert sum(d.scores.values()) == pytest.approx(1.0)
    assert d.label == "three" and label_to_command(d.label) == ("number", 3)


def test_unknown_context_is_an_error():
    with pytest.raises(ValueError):
        decide(model(), probs(other=1.0), "kitchen")


def test_export_round_trip_keeps_probabilities(tmp_path):
    rng = np.random.default_rng(1)
    n, d = len(LABELS), 5
    m = KeywordModel(LABELS, rng.normal(size=d), rng.uniform(0.5, 2, size=d),
                     ((rng.normal(size=(d, 4)), rng.normal(size=4)),
                      (rng.normal(size=(4, n)), rng.normal(size=n))), {"session": 0.6}, {"kind": "mlp"})
    m.save(tmp_path / "k.npz")
    back = KeywordModel.read(tmp_path / "k.npz")
    x = rng.normal(size=(3, d))
    np.testing.assert_allclose(back.probabilities(x), m.probabilities(x), rtol=1e-4, atol=1e-6)
    assert back.labels == LABELS and back.thresholds == {"session": 0.6}


def test_urgent_words_use_their_own_threshold_in_a_context():
    m = model({"session": 0.6, "session:urgent": 0.3})
    assert decide(m, probs(stop=0.35, other=0.65), "session").label == "stop"
    assert decide(m, probs(resume=0.35, other=0.65), "session").label == "other"
    assert decide(m, probs(resume=0.65, other=0.35), "session").label == "resume"


def test_a_command_can_be_heard_below_other_when_the_threshold_allows():
    m = model({"yesno": 0.3})
    d = decide(m, probs(yes=0.32, other=0.68), "yesno")
    assert d.label == "yes" and d.accepted and d.probability == pytest.approx(0.32)
