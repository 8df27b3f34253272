"""Endpointer on synthetic signals of known timing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.listen.endpoint import EndpointConfig, Endpointer, Segment

RATE = 16_000
FRAME = 0.01


def signal(total_seconds: float, bursts: list[tuple[float, float]], noise_dbfs: float = -70.0,
           burst_dbfs: float = -20.0, seed: int = 0, tone: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = round(total_seconds * RATE)
    out = rng.standard_normal(n) * 32768 * 10 ** (noise_dbfs / 20)
    t = np.arange(n) / RATE
    for start, end in bursts:
        a, b = round(start * RATE), round(end * RATE)
        amplitude = 32768 * 10 ** (burst_dbfs / 20) * np.sqrt(2)
        burst = np.sin(2 * np.pi * 440 * t[a:b]) if tone else rng.standard_normal(b - a) / np.sqrt(2)
        out[a:b] += amplitude * burst
    return np.clip(out, -32768, 32767).astype("<i2")


def run(samples: np.ndarray, chunk_sizes: list[int] | None = None, start_seconds: float = 0.0,
        config: EndpointConfig | None = None, flush: bool = True) -> list[Segment]:
    endpointer = Endpointer(config)
    out: list[Segment] = []
    position = 0
    sizes = iter(chunk_sizes or [1600])
    last = 1600
    while position < len(samples):
        last = next(sizes, last)
        piece = samples[position:position + last]
        out.extend(endpointer.feed(piece.tobytes(), start_seconds + position / RATE))
        position += len(piece)
    if flush:
        out.extend(endpointer.flush())
    return out


def finals(segments: list[Segment]) -> list[Segment]:
    return [s for s in segments if not s.early]


def test_silence_gives_no_segment() -> None:
    assert run(signal(5.0, [])) == []


def test_digital_zero_gives_no_segment() -> None:
    assert run(np.zeros(3 * RATE, dtype="<i2")) == []


@pytest.mark.parametrize("bursts", [
    [(1.0, 1.5)],
    [(0.5, 0.8), (2.0, 2.6)],
    [(0.3, 1.2), (1.8, 2.0), (3.0, 3.4)],
])
def test_segments_cover_each_burst_at_the_right_times(bursts) -> None:
    config = EndpointConfig()
    segments = finals(run(signal(4.5, bursts), config=config))
    assert len(segments) == len(bursts)
    for segment, (start, end) in zip(segments, bursts):
        assert start - config.preroll_seconds - FRAME <= segment.start_seconds <= start
        assert end <= segment.end_seconds <= end + config.tail_seconds + FRAME
        # decided one hangover after the last loud frame, never later
        assert segment.decided_seconds == pytest.approx(end + config.hangover_seconds, abs=0.02)
        assert len(segment.pcm) == round((segment.end_seconds - segment.start_seconds) * RATE) * 2


def test_segment_pcm_is_the_audio_at_its_times() -> None:
    samples = signal(3.0, [(1.0, 1.4)], seed=3)
    segment = finals(run(samples))[0]
    a = round(segment.start_seconds * RATE)
    assert segment.pcm == samples[a:a + len(segment.pcm) // 2].tobytes()


def test_times_follow_the_stream_start() -> None:
    shifted = finals(run(signal(3.0, [(1.0, 1.4)]), start_seconds=100.0))[0]
    plain = finals(run(signal(3.0, [(1.0, 1.4)])))[0]
    assert shifted.start_seconds == pytest.approx(plain.start_seconds + 100.0)
    assert shifted.decided_seconds == pytest.approx(plain.decided_seconds + 100.0)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=40))
def test_same_segments_whatever_the_chunk_sizes(sizes: list[int]) -> None:
    samples = signal(3.0, [(0.4, 0.9), (1.6, 2.1)], seed=7)
    assert run(samples, sizes) == run(samples, [1600])


def test_clicks_shorter_than_the_minimum_are_ignored() -> None:
    assert finals(run(signal(3.0, [(1.0, 1.04)]))) == []


def test_a_short_gap_inside_a_word_does_not_split_it() -> None:
    # "stop": the closure before the p is a short silence
    segments = finals(run(signal(3.0, [(1.0, 1.25), (1.33, 1.45)])))
    assert len(segments) == 1
    assert segments[0].start_seconds <= 1.0 and segments[0].end_seconds >= 1.45


def test_early_candidate_comes_before_the_final_segment() -> None:
    config = EndpointConfig()
    segments = run(signal(3.0, [(1.0, 1.4)]), config=config)
    early = [s for s in segments if s.early]
    final = finals(segments)
    assert len(early) == 1 and len(final) == 1
    assert early[0].start_seconds == final[0].start_seconds
    assert early[0].decided_seconds == pytest.approx(1.4 + config.early_seconds, abs=0.02)
    assert early[0].decided_seconds < final[0].decided_seconds


def test_long_sound_is_cut_at_the_maximum_and_the_floor_adapts() -> None:
    config = EndpointConfig(max_speech_seconds=2.0)
    # a fan switches on at 1 s and never stops, at -35 dBFS
    samples = signal(12.0, [(1.0, 12.0)], burst_dbfs=-35.0, tone=False)
    segments = finals(run(samples, config=config, flush=False))
    assert segments and segments[0].seconds <= 2.0 + 0.02
    # after the first cut the steady noise stops counting as speech
    assert len(segments) <= 2


def test_speech_over_steady_noise_is_found() -> None:
    samples = signal(6.0, [(4.0, 4.5)], noise_dbfs=-45.0, burst_dbfs=-20.0)
    segments = finals(run(samples))
    assert len(segments) == 1
    assert 3.8 <= segments[0].start_seconds <= 4.0


def test_open_speech_is_closed_by_flush() -> None:
    segments = run(signal(2.0, [(1.5, 2.0)]))
    assert finals(segments) and finals(segments)[-1].end_seconds == pytest.approx(2.0, abs=0.02)


def test_other_rates_are_refused() -> None:
    with pytest.raises(ValueError):
        Endpointer(rate_hz=8000)


# ------------------------------------------------------------ the urgent candidate's word end


def pedestal(total_seconds: float, noise_on: tuple[float, float], noise_dbfs: float,
             word: tuple[float, float], word_dbfs: float = -15.0, seed: int = 5) -> np.ndarray:
    """Digital silence with a stretch of room noise that starts before the word and
    outlasts it (a recording inserted into a quiet stream, or a window opened)."""
    rng = np.random.default_rng(seed)
    n = round(total_seconds * RATE)
    out = np.zeros(n)
    a, b = round(noise_on[0] * RATE), round(noise_on[1] * RATE)
    out[a:b] = rng.standard_normal(b - a) * 32768 * 10 ** (noise_dbfs / 20)
    w0, w1 = round(word[0] * RATE), round(word[1] * RATE)
    t = np.arange(w1 - w0) / RATE
    out[w0:w1] += 32768 * 10 ** (word_dbfs / 20) * np.sqrt(2) * np.sin(2 * np.pi * 300 * t)
    return np.clip(out, -32768, 32767).astype("<i2")


def earlies(segments: list[Segment]) -> list[Segment]:
    return [s for s in segments if s.early]


@pytest.mark.parametrize("noise_dbfs", [-50.0, -42.0, -34.0])
def test_urgent_candidate_follows_the_word_not_the_noise_that_came_with_it(noise_dbfs: float) -> None:
    config = EndpointConfig()
    samples = pedestal(4.0, (1.0, 2.6), noise_dbfs, (1.2, 1.5))
    segments = run(samples, config=config)
    early = earlies(segments)
    assert early, "no urgent candidate"
    assert early[0].decided_seconds == pytest.approx(1.5 + config.early_seconds, abs=0.04)
    assert early[0].end_seconds >= 1.5
    # the final segment ends soon after the word, and the noise it leaves behind
    # opens no new speech
    final = finals(segments)
    assert len(final) == 1
    assert final[0].decided_seconds == pytest.approx(1.5 + config.final_word_end_seconds, abs=0.05)
    assert len(segments) == 2


def test_without_final_word_end_the_final_segment_waits_for_the_quiet() -> None:
    config = EndpointConfig(final_on_word_end=False)
    final = finals(run(pedestal(4.0, (1.0, 2.6), -42.0, (1.2, 1.5)), config=config))
    assert final and final[0].decided_seconds >= 2.6


def test_a_two_word_phrase_in_noise_stays_one_final_segment() -> None:
    # "not ... sure" with a 120 ms pause, in room noise that outlasts both words
    samples = pedestal(4.0, (1.0, 2.8), -42.0, (1.2, 1.45)).astype(np.float64)
    samples += pedestal(4.0, (0.0, 0.0), -42.0, (1.57, 1.9), seed=6)
    segments = finals(run(np.clip(samples, -32768, 32767).astype("<i2")))
    assert len(segments) == 1
    assert segments[0].start_seconds <= 1.2 and segments[0].end_seconds >= 1.9
    assert segments[0].decided_seconds == pytest.approx(1.9 + EndpointConfig().final_word_end_seconds, abs=0.05)


def test_without_the_relative_tests_the_candidate_waits_for_the_noise_to_stop() -> None:
    config = EndpointConfig(early_rebound_db=None, early_drop_db=None)
    early = earlies(run(pedestal(4.0, (1.0, 2.6), -45.0, (1.2, 1.5)), config=config))
    assert early and early[0].decided_seconds >= 2.6


def test_a_weak_final_consonant_within_the_drop_stays_in_the_candidate() -> None:
    # "it hurts": the s is some 20 dB under the vowel and must not be cut off
    rng = np.random.default_rng(2)
    samples = signal(3.0, [(1.0, 1.4)], noise_dbfs=-90.0, burst_dbfs=-12.0).astype(np.float64)
    a, b = round(1.4 * RATE), round(1.6 * RATE)
    samples[a:b] += rng.standard_normal(b - a) * 32768 * 10 ** (-32.0 / 20)
    early = earlies(run(np.clip(samples, -32768, 32767).astype("<i2")))
    assert early and early[0].end_seconds >= 1.6
    assert early[0].decided_seconds == pytest.approx(1.6 + EndpointConfig().early_seconds, abs=0.04)


def test_a_steady_word_is_not_cut_in_its_middle() -> None:
    # no noise around it: the quietest part is the word itself, so no rebound test
    early = earlies(run(signal(3.0, [(1.0, 1.7)], noise_dbfs=-90.0, burst_dbfs=-20.0, tone=False)))
    assert len(early) == 1 and early[0].end_seconds >= 1.7


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=40))
def test_the_candidate_does_not_depend_on_chunk_sizes(sizes: list[int]) -> None:
    samples = pedestal(3.5, (0.8, 2.4), -45.0, (1.0, 1.4))
    assert run(samples, sizes) == run(samples, [1600])


def _word_after_noise(noise_seconds: float) -> np.ndarray:
    """Quiet room, a stretch of louder noise (-50 dBFS) that runs into a word (-10 dBFS)."""
    quiet = signal(4.0, [], noise_dbfs=-70.0)
    louder = signal(4.0, [(1.0, 1.0 + noise_seconds)], noise_dbfs=-90.0, burst_dbfs=-50.0, seed=1, tone=False)
    word = signal(4.0, [(1.0 + noise_seconds, 1.5 + noise_seconds)], noise_dbfs=-90.0, burst_dbfs=-10.0, seed=2)
    return np.clip(quiet.astype(float) + louder + word, -32768, 32767).astype("<i2")


def test_a_segment_is_cut_to_its_word_when_louder_noise_ran_into_it() -> None:
    [segment] = finals(run(_word_after_noise(0.8)))
    assert segment.onset_seconds is not None and segment.onset_seconds < 1.1      # the noise opened it
    assert 1.8 - 0.15 - 0.03 <= segment.start_seconds <= 1.8 - 0.15 + 0.03        # cut to the word, preroll kept
    untrimmed = finals(run(_word_after_noise(0.8), config=EndpointConfig(trim_below_peak_db=None)))[0]
    assert untrimmed.start_seconds == untrimmed.onset_seconds < 1.1


def test_a_short_quiet_lead_is_kept_whole() -> None:
    [segment] = finals(run(_word_after_noise(0.2)))
    assert segment.start_seconds == segment.onset_seconds
