"""Endpointer on synthetic signals of known timing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.endpoint import EndpointConfig, Endpointer, Segment

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
