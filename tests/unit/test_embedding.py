"""Pure parts of the speech-embedding front end: padding, pooling, PCM decoding."""

from __future__ import annotations

import numpy as np
import pytest

from coach.asr.embedding import (EDGE_PAD_SECONDS, EMBEDDING_SIZE, PADDED_SECONDS,
                                 SAMPLE_RATE_HZ, SpeechEmbedder, pad_segment, pcm_to_samples, pool)
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
