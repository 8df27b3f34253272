"""Building microphone recordings for tests, and reading event logs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from coach.testing import eventlog, micmix

RATE = 16_000


def test_compose_places_clips_at_their_sample_with_gain() -> None:
    a = np.full(10, 1000, dtype=np.int16)
    b = np.full(4, 64, dtype=np.int16).tobytes()
    half_db = 20 * np.log10(0.5)
    out = micmix.compose_mic_samples(0.01, [(0.001, a, 0.0), (0.0015, b, half_db)])
    assert out.size == 160
    assert not out[:16].any()
    assert out[16:24].tolist() == [1000] * 8        # a starts at sample 16
    assert out[24:26].tolist() == [1032] * 2          # overlap adds: 1000 + 64/2
    assert out[26:28].tolist() == [32] * 2            # b outlasts a
    assert not out[28:].any()
    assert micmix.compose_mic(0.01, [(0.001, a, 0.0)]) == micmix.compose_mic_samples(0.01, [(0.001, a, 0.0)]).tobytes()


def test_compose_cuts_at_the_end_clips_and_rejects_outside_placements() -> None:
    loud = np.full(100, 30000, dtype=np.int16)
    out = micmix.compose_mic_samples(0.005, [(0.004, loud, 0.0), (0.004, loud, 0.0)])
    assert out.size == 80
    assert out[64:].tolist() == [32767] * 16
    with pytest.raises(ValueError):
        micmix.compose_mic_samples(1.0, [(1.5, loud, 0.0)])


def test_noise_is_looped_under_the_whole_recording() -> None:
    bed = np.array([10, -10], dtype=np.int16)
    out = micmix.compose_mic_samples(0.001, noise=(bed, 0.0))
    assert out.tolist() == [10, -10] * 8


def test_wav_round_trip_and_resampling(tmp_path) -> None:
    tone = (np.sin(np.arange(RATE) * 2 * np.pi * 440 / RATE) * 8000).astype(np.int16)
    path = micmix.write_wav(tmp_path / "tone.wav", tone)
    assert micmix.read_wav(path).tolist() == tone.tolist()
    micmix.write_wav(tmp_path / "tone22.wav", micmix.resample(tone, RATE, 22050), 22050)
    back = micmix.read_wav(tmp_path / "tone22.wav")
    assert abs(back.size - RATE) <= 1
    assert np.max(np.abs(back[100:-100].astype(int) - tone[100 : back.size - 100])) < 400


def test_speech_bounds_find_the_loud_part() -> None:
    clip = np.zeros(RATE, dtype=np.int16)
    clip[4000:8000] = 5000
    start, end = micmix.speech_bounds(clip)
    assert start == pytest.approx(0.25, abs=0.011)
    assert end == pytest.approx(0.5, abs=0.011)
    assert micmix.speech_bounds(np.zeros(100, np.int16)) == (0.0, 0.0)
    gapped = clip.copy()
    gapped[8000:9000] = 0                  # a 60 ms stop closure, then the release
    gapped[9000:9600] = 3000
    gapped[14000:14400] = 2000             # a bump 280 ms later is not the word
    assert micmix.speech_bounds(gapped) == (pytest.approx(0.25, abs=0.011), pytest.approx(0.6, abs=0.011))
    assert micmix.rms_dbfs(np.zeros(10, np.int16)) == -120.0
    assert micmix.rms_dbfs(np.full(10, 32767, np.int16)) == pytest.approx(0.0, abs=0.01)


def test_shared_dir_comes_from_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COACH_SHARED_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(micmix.MissingTestData, match="nowhere"):
        micmix.dev_set_dir()
    folder = tmp_path / "shared" / "speech" / "commands-dev"
    (folder / "stop").mkdir(parents=True)
    micmix.write_wav(folder / "stop" / "0a_0.wav", np.full(10, 3, np.int16))
    (folder / "manifest.csv").write_text("path,label,speaker\nstop/0a_0.wav,stop,0a\n")
    monkeypatch.setenv("COACH_SHARED_DIR", str(tmp_path / "shared"))
    clip = micmix.pick_dev_clip("stop")
    assert (clip.label, clip.speaker) == ("stop", "0a")
    assert micmix.as_samples(clip).tolist() == [3] * 10
    assert micmix.dev_clips("go") == []
    with pytest.raises(micmix.MissingTestData):
        micmix.pick_dev_clip("go")


def test_dev_set_clips_are_real_and_sampled_by_speaker() -> None:
    try:
        clips = micmix.sample_dev_clips("stop", 5, seed=3)
    except micmix.MissingTestData as missing:
        pytest.skip(str(missing))
    assert len({c.speaker for c in clips}) == 5
    assert clips == micmix.sample_dev_clips("stop", 5, seed=3)
    samples = micmix.as_samples(clips[0])
    assert samples.size == RATE
    start, end = micmix.speech_bounds(samples)
    assert 0.0 <= start < end <= 1.0


def test_espeak_renders_16k_speech() -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    pcm = micmix.espeak_pcm("it hurts")
    samples = np.frombuffer(pcm, np.int16)
    assert 0.3 * RATE < samples.size < 2.0 * RATE
    assert micmix.rms_dbfs(samples) > -40
    slow = np.frombuffer(micmix.espeak_pcm("it hurts", words_per_minute=100), np.int16)
    assert slow.size > samples.size


def test_event_log_queries(tmp_path) -> None:
    events = [
        {"type": "session-started", "t": 0.0},
        {"type": "cue-started", "t": 0.0, "index": 0, "kind": "say", "text": "hello"},
        {"type": "command-heard", "t": 20.3, "command": "stop", "confidence": 0.9},
        {"type": "audio-cancelled", "t": 20.3},
        {"type": "session-ended", "t": 20.4, "reason": "stopped"},
    ]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n{\"type\": \"torn")
    read = eventlog.read_events(path)
    assert read == events
    assert eventlog.commands_heard(read) == [("stop", 20.3)]
    assert eventlog.command_names(read) == ["stop"]
    assert eventlog.first(read, "audio-cancelled")["t"] == 20.3
    assert eventlog.first(read, "cue-started", after_seconds=1.0) is None
    assert eventlog.first(read, "cue-started", kind="say")["text"] == "hello"
    assert eventlog.end_reason(read) == "stopped"
    assert eventlog.triage_outcome(read) is None
    assert eventlog.times(read, "audio-cancelled") == [20.3]
    assert eventlog.event_type({"event": "x"}) == "x"
    assert eventlog.without_wall_time([{"type": "a", "wall": 1.0}]) == [{"type": "a"}]
