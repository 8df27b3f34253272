"""The echo canceller and the guard's timing, with the tone engine of test_listener:
a wrong echo estimate must never put the coach's voice into the microphone, a cut
playback stops counting at the cut, and the silence at the end of rendered speech
is not speaking."""

from __future__ import annotations

import numpy as np

from coach.audio import AudioChunk

from coach.listener import Listener
from tests.unit.test_listener import PARSER, ToneEngine, coach_echo, listen, mic, pcm, speechlike, tone

RATE = 16_000


def test_a_wrong_echo_estimate_never_adds_the_coach_voice_to_a_silent_microphone() -> None:
    cue = speechlike(3.0, seed=5, hz=440)          # the coach says "stop ..."; no echo comes back
    engine = ToneEngine()
    listener = Listener(engine, PARSER)
    listener.note_playback("Stop if you feel any sharp pain.", pcm(cue), 0.5)
    listener.reference.delay_samples, listener.reference.gain = 0, 0.2    # as a word could set it
    heard = listen(listener, mic(4.0, []), speaking=lambda t: 0.5 <= t < 3.5)
    assert heard == [] and engine.calls == []        # nothing sounded, so nothing was decoded


def test_one_word_that_looks_like_the_coach_sets_no_echo_path() -> None:
    # a 0.3 s sound that matches the coach's voice at one lag (a chance likeness):
    # one window is not enough to believe an echo path
    cue = speechlike(3.0, seed=5, hz=440)
    burst = 0.2 * cue[round(0.9 * RATE):round(1.2 * RATE)]
    listener = Listener(ToneEngine(), PARSER)
    listener.note_playback("Stop if you feel any sharp pain.", pcm(cue), 0.5)
    gains = []
    samples = mic(3.5, [(1.4, burst)])
    data = pcm(samples)

    for offset in range(0, len(data), 3200):
        listener.feed(AudioChunk(data[offset:offset + 3200], RATE, offset / 2 / RATE), True)
        gains.append(listener.reference.delay_samples)
    assert all(g is None for g in gains)


def test_a_real_echo_is_still_found_and_removed() -> None:
    cue = speechlike(3.0, seed=6)
    samples = mic(5.0, [coach_echo(cue, 0.5), (2.0, tone(440, 0.4, -18.0))])
    listener = Listener(ToneEngine(), PARSER)
    listener.note_playback("Now lie on your back and rest.", pcm(cue), 0.5)
    heard = listen(listener, samples, lambda t: 0.5 <= t < 3.5)
    assert [h.command for h in heard] == ["stop"]


def test_after_a_cancel_the_rest_of_the_cue_is_not_guarded() -> None:
    # the coach's 3 s cue from 0.5 s is cut at 1.0 s; "next" at 1.6 s is an answer
    cue = speechlike(3.0, seed=7)
    samples = mic(5.0, [coach_echo(cue[:round(0.5 * RATE)], 0.5), (1.6, tone(660, 0.3))])
    listener = Listener(ToneEngine(), PARSER)
    listener.note_playback("Now lie on your back and rest.", pcm(cue), 0.5)
    listener.note_cancel(1.0)
    heard = listen(listener, samples, lambda t: 0.5 <= t < 1.0)
    assert [h.command for h in heard] == ["next"]
    assert listener.reference.playing_until(round(1.6 * RATE)) == round(1.0 * RATE)


def test_a_quick_reply_after_the_voice_ends_counts_despite_trailing_silence() -> None:
    # 1.0 s of voice from 0.5 s then 1.5 s of rendered silence; the sink is busy
    # until 3.0 s, but the coach stopped speaking at 1.5 s: "next" at 1.9 s counts
    voice = speechlike(1.0, seed=8)
    rendered = np.concatenate([voice, np.zeros(round(1.5 * RATE))])
    samples = mic(4.5, [coach_echo(voice, 0.5), (1.9, tone(660, 0.3))])
    listener = Listener(ToneEngine(), PARSER)
    listener.note_playback("Hold it there.", pcm(rendered), 0.5)
    heard = listen(listener, samples, lambda t: 0.5 <= t < 3.0)
    assert [h.command for h in heard] == ["next"]
    assert 1.8 <= heard[0].audio_start_seconds <= 1.95


def test_a_reply_within_the_margin_after_the_voice_is_still_guarded() -> None:
    voice = speechlike(1.0, seed=8)
    rendered = np.concatenate([voice, np.zeros(round(1.5 * RATE))])
    samples = mic(4.5, [coach_echo(voice, 0.5), (1.6, tone(660, 0.3))])
    listener = Listener(ToneEngine(), PARSER)
    listener.note_playback("Hold it there.", pcm(rendered), 0.5)
    assert listen(listener, samples, lambda t: 0.5 <= t < 3.0) == []
