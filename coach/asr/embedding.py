"""Speech embedding front end: 16 kHz int16 audio -> Google speech-embedding vectors.

The ONNX models (mel spectrogram and speech embedding) ship inside the
openwakeword 0.4.0 wheel, so recognition works right after install with no
download. We load them with onnxruntime straight from site-packages and do not
import openwakeword itself (it pulls in more than we need).

This is the only module of the keyword classifier that imports onnxruntime.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from coach.errors import ModelError

SAMPLE_RATE_HZ = 16_000
WINDOW_FRAMES = 76          # mel frames per embedding window (0.76 s of audio)
HOP_FRAMES = 8              # 80 ms between embedding windows
EMBEDDING_SIZE = 96
MEL_BINS = 32
PADDED_SECONDS = 1.6        # a segment is centred in at least this much audio
EDGE_PAD_SECONDS = 0.3      # silence added each side of segments longer than that
TRIM_FRAME_SAMPLES = 160    # 10 ms energy frames for trimming
TRIM_LEAD_SECONDS = 0.1     # background kept before the first speech frame
TRIM_TAIL_SECONDS = 0.2     # and after the last one
MEL_FILE = "melspectrogram.onnx"
EMBEDDING_FILE = "embedding_model.onnx"


def models_dir() -> Path | None:
    """Where openwakeword's wheel keeps its ONNX resources, if it is installed."""
    spec = importlib.util.find_spec("openwakeword")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "resources" / "models"


def pad_segment(samples: np.ndarray, min_seconds: float = PADDED_SECONDS) -> np.ndarray:
    """Centre a speech segment in silence: at least ``min_seconds`` long, and at
    least EDGE_PAD_SECONDS of silence each side of longer segments."""
    samples = np.asarray(samples, dtype=np.int16)
    min_len = int(round(min_seconds * SAMPLE_RATE_HZ))
    edge = int(round(EDGE_PAD_SECONDS * SAMPLE_RATE_HZ))
    total = max(min_len, len(samples) + 2 * edge) if len(samples) > min_len else min_len
    out = np.zeros(total, dtype=np.int16)
    start = (total - len(samples)) // 2
    out[start:start + len(samples)] = samples
    return out


def speech_span(samples: np.ndarray) -> tuple[int, int]:
    """(start, end) sample indices of the frames louder than 12 dB over the segment's
    noise floor (its 10th-percentile frame), 20 dB under its peak frame and an
    absolute floor; the whole segment when no frame qualifies (steady noise)."""
    x = np.asarray(samples, dtype=np.float64)
    n = len(x) // TRIM_FRAME_SAMPLES
    if n == 0:
        return 0, len(x)
    rms = np.sqrt((x[:n * TRIM_FRAME_SAMPLES].reshape(n, TRIM_FRAME_SAMPLES) ** 2).mean(axis=1))
    limit = max(4.0 * float(np.percentile(rms, 10)), 0.1 * float(rms.max()), 30.0)
    on = np.nonzero(rms > limit)[0]
    if len(on) == 0:
        return 0, len(x)
    return int(on[0]) * TRIM_FRAME_SAMPLES, int(on[-1] + 1) * TRIM_FRAME_SAMPLES


def trim_segment(samples: np.ndarray) -> np.ndarray:
    """Cut the background before and after the speech, keeping a short margin.

    Segments reach the classifier with however much background the endpointer (or a
    file) left around the word; weights trained on trimmed clips (info["trim"]) see
    it trimmed the same way here. Measurements: scripts/train_keywords.py."""
    samples = np.asarray(samples, dtype=np.int16)
    start, end = speech_span(samples)
    lead = int(round(TRIM_LEAD_SECONDS * SAMPLE_RATE_HZ))
    tail = int(round(TRIM_TAIL_SECONDS * SAMPLE_RATE_HZ))
    return samples[max(0, start - lead):min(len(samples), end + tail)]


def pcm_to_samples(pcm: bytes) -> np.ndarray:
    if len(pcm) % 2:
        pcm = pcm[:-1]
    return np.frombuffer(pcm, dtype="<i2").astype(np.int16)


class SpeechEmbedder:
    """Mel spectrogram + speech embedding with onnxruntime on a fixed thread count."""

    def __init__(self, mel_session, embedding_session) -> None:
        self._mel = mel_session
        self._emb = embedding_session

    @classmethod
    def load(cls, directory: Path | None = None, threads: int = 1) -> "SpeechEmbedder":
        folder = directory if directory is not None else models_dir()
        if folder is None:
            raise ModelError("embedding-missing",
                             "speech embedding models not found: install openwakeword==0.4.0")
        mel_path, emb_path = Path(folder) / MEL_FILE, Path(folder) / EMBEDDING_FILE
        for path in (mel_path, emb_path):
            if not path.is_file():
                raise ModelError("embedding-missing",
                                 f"speech embedding model missing: {path} (install openwakeword==0.4.0)")
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - dependency of the package
            raise ModelError("onnxruntime-missing", f"onnxruntime not importable: {exc}") from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        providers = ["CPUExecutionProvider"]
        try:
            mel = ort.InferenceSession(str(mel_path), sess_options=options, providers=providers)
            emb = ort.InferenceSession(str(emb_path), sess_options=options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError("embedding-broken", f"cannot load speech embedding model: {exc}") from None
        return cls(mel, emb)

    def melspectrogram(self, samples: np.ndarray) -> np.ndarray:
        """(frames, 32) log-mel features, scaled as the embedding model expects."""
        x = np.asarray(samples, dtype=np.int16).astype(np.float32)[None, :]
        spec = np.squeeze(self._mel.run(None, {"input": x})[0])
        return (spec / 10.0 + 2.0).astype(np.float32)

    def embeddings(self, samples: np.ndarray) -> np.ndarray:
        """(windows, 96) embeddings of 76-frame windows every 8 frames."""
        spec = self.melspectrogram(samples)
        starts = range(0, spec.shape[0] - WINDOW_FRAMES + 1, HOP_FRAMES)
        windows = np.stack([spec[i:i + WINDOW_FRAMES] for i in starts])
        out = self._emb.run(None, {"input_1": windows[..., None]})[0]
        return out.reshape(len(windows), EMBEDDING_SIZE)

    def segment_embeddings(self, samples: np.ndarray, trim: bool = False) -> np.ndarray:
        """Embeddings of one endpointed segment, padded (and trimmed first when the
        classifier's weights were trained on trimmed clips) as in training."""
        return self.embeddings(pad_segment(trim_segment(samples) if trim else samples))


def pool(embeddings: np.ndarray) -> np.ndarray:
    """Fixed-size summary of a segment's windows: max, mean and std over time."""
    e = np.asarray(embeddings, dtype=np.float32)
    return np.concatenate([e.max(axis=0), e.mean(axis=0), e.std(axis=0)])
