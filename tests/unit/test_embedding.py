"""Pure parts of the speech-embedding front end: padding, trimming, pooling, PCM decoding."""

from __future__ import annotations

import numpy as np
import pytest

from coach.asr.embedding import (EDGE_PAD_SECONDS, EMBEDDING_SIZE, PADDED_SECONDS,
                                 SAMPLE_RATE_HZ, TRIM_FRAME_SAMPLES, TRIM_LEAD_SECONDS,
                                 TRIM_TAIL_SECONDS, SpeechEmbedder, pad_segment, pcm_to_samples,
                                 pool, speech_span, trim_segment)
from coach.errors import ModelError


def test_short_segment_is_centred_in_the_padded_length():
    x = np.full(8000, 7, dtype=np.int16)
    out = pad_segment(x)
    assert len(out) == int(PADDED_SECONDS * SAMPLE_RATE_HZ)
    nz = np.nonzero(out)[0]
    assert len(nz) == 8000
    lead, tail = nz[0], len(out) - nz[-1] - 1
    assert abs(lead - tail) <= 1


def test_long_segment_gets_silence_on_both_sides():
    x = np.ones(int(2.5 * SAMPLE_RATE_HZ), dtype=np.int16)
    out = pad_segment(x)
    edge = int(EDGE_PAD_SECONDS * SAMPLE_RATE_HZ)
    assert len(out) == len(x) + 2 * edge
    assert not out[:edge].any() and not out[-edge:].any()


def test_empty_segment_becomes_silence():
    out = pad_segment(np.zeros(0, dtype=np.int16))
    assert len(out) == int(PADDED_SECONDS * SAMPLE_RATE_HZ) and not out.any()


def test_pcm_bytes_decode_little_endian_and_ignore_a_trailing_odd_byte():
    pcm = np.array([1, -2, 300], dtype="<i2").tobytes() + b"\x01"
    assert pcm_to_samples(pcm).tolist() == [1, -2, 300]


def test_pool_concatenates_max_mean_std_over_windows():
    rng = np.random.default_rng(0)
    e = rng.normal(size=(11, EMBEDDING_SIZE)).astype(np.float32)
    f = pool(e)
    assert f.shape == (3 * EMBEDDING_SIZE,)
    np.testing.assert_allclose(f[:EMBEDDING_SIZE], e.max(axis=0))
    np.testing.assert_allclose(f[EMBEDDING_SIZE:2 * EMBEDDING_SIZE], e.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(f[2 * EMBEDDING_SIZE:], e.std(axis=0), rtol=1e-5)


def test_missing_model_folder_is_a_one_line_model_error(tmp_path):
    with pytest.raises(ModelError) as err:
        SpeechEmbedder.load(directory=tmp_path)
    assert "\n" not in str(err.value) and "melspectrogram.onnx" in str(err.value)
    assert err.value.exit_code == 4


def _word_in_background(lead_s: float, word_s: float, tail_s: float, seed: int = 0) -> np.ndarray:
    """Low steady noise, a loud tone burst, low steady noise."""
    rng = np.random.default_rng(seed)
    n = int((lead_s + word_s + tail_s) * SAMPLE_RATE_HZ)
    x = rng.normal(0, 40, n)
    a, b = int(lead_s * SAMPLE_RATE_HZ), int((lead_s + word_s) * SAMPLE_RATE_HZ)
    x[a:b] += 8000 * np.sin(2 * np.pi * 300 * np.arange(b - a) / SAMPLE_RATE_HZ)
    return x.astype(np.int16)


def test_speech_span_finds_the_loud_part():
    x = _word_in_background(0.6, 0.3, 0.5)
    start, end = speech_span(x)
    assert abs(start - 0.6 * SAMPLE_RATE_HZ) <= TRIM_FRAME_SAMPLES
    assert abs(end - 0.9 * SAMPLE_RATE_HZ) <= TRIM_FRAME_SAMPLES


def test_trim_keeps_the_margins_around_the_speech():
    x = _word_in_background(0.6, 0.3, 0.5)
    out = trim_segment(x)
    expected = (0.3 + TRIM_LEAD_SECONDS + TRIM_TAIL_SECONDS) * SAMPLE_RATE_HZ
    assert abs(len(out) - expected) <= 2 * TRIM_FRAME_SAMPLES
    start = int((0.6 - TRIM_LEAD_SECONDS) * SAMPLE_RATE_HZ)
    offset = int(np.argmax(np.abs(out) > 4000)) - int(np.argmax(np.abs(x) > 4000))
    assert abs(offset + start) <= TRIM_FRAME_SAMPLES


def test_trim_leaves_steady_noise_and_short_input_whole():
    noise = np.random.default_rng(1).normal(0, 300, SAMPLE_RATE_HZ).astype(np.int16)
    assert len(trim_segment(noise)) == len(noise)
    short = np.full(100, 5000, dtype=np.int16)
    assert len(trim_segment(short)) == 100
    assert len(trim_segment(np.zeros(0, dtype=np.int16))) == 0


def test_trim_does_not_cut_into_a_word_that_fills_the_segment():
    x = _word_in_background(0.02, 0.5, 0.02)
    assert len(trim_segment(x)) == len(x)
