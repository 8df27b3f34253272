"""Real sounddevice streams on a virtual PulseAudio device: the coach is heard, and cancel() is instant.

How the cancel latency is measured (coach.testing.pulse.measure_cancel): a
3-second tone plays into ``coach_speaker``; a capture of its monitor records
with the arrival time of every block (time.monotonic() in the callback).
After 0.5 s the test reads the clock and calls cancel(). The latency is the
arrival time of the last loud sample minus the cancel time (it includes the
capture path's own delay). A second estimate uses PulseAudio's reported
play-out time of the tone's first sample plus the tone's length counted in
captured samples. Both must be <= 50 ms.
Without flushing the stream on cancel both read 50-70 ms here, so the test
can fail; with it, about 5 ms.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from coach.clock import SystemClock
from coach.errors import AudioDeviceError
from coach.testing.pulse import loud_segments, measure_cancel, open_speaker_capture, tone_pcm, wait_for_capture

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
CANCEL_LIMIT_SECONDS = 0.050


def test_cancel_silences_the_speaker_within_50_ms(pulse_rig_env: object) -> None:
    trials, _ = measure_cancel(5)
    for trial in trials:
        assert trial.sounded_seconds > 0.3                       # the capture showed the tone
        assert trial.latency_seconds <= CANCEL_LIMIT_SECONDS, trial
        assert trial.estimated_latency_seconds <= CANCEL_LIMIT_SECONDS, trial


def test_speech_cue_is_heard_and_is_playing_turns_false(pulse_rig_env: object, tmp_path: Path) -> None:
    from coach.audio.device import DeviceSink
    from coach.speak.speaker import Speaker
    from coach.speak.tts.cache import SpeechCache
    from coach.speak.tts.pyttsx3 import Pyttsx3Synthesizer

    synth = Pyttsx3Synthesizer()
    try:
        speaker = Speaker(synth, SpeechCache(tmp_path), DeviceSink())
        speaker.prepare(["Lie on your back with your knees bent."])
        capture = open_speaker_capture()
        wait_for_capture(capture)
        time.sleep(0.5)
        seconds = speaker.say("Lie on your back with your knees bent.")
        assert speaker.is_playing()
        deadline = time.monotonic() + seconds + 1.0
        while speaker.is_playing() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not speaker.is_playing()
        time.sleep(0.3)
        recording = capture.stop()
        speaker.sink.close()  # type: ignore[union-attr]
    finally:
        synth.close()
    segments = loud_segments(recording.pcm)
    assert segments, "nothing reached coach_speaker"
    heard_seconds = (segments[-1][1] - segments[0][0]) / 16_000
    sent = loud_segments(speaker.pcm("Lie on your back with your knees bent."))
    assert abs(heard_seconds - (sent[-1][1] - sent[0][0]) / 16_000) < 0.05       # all of it, at unity speed


def test_after_a_cancel_is_playing_lasts_as_long_as_the_next_sound(pulse_rig_env: object) -> None:
    """A cancel restarts the stream; the sounds played next must still count as
    playing for as long as they last (triage speaks right after a cancel and
    listens for the answer only when the question has been said)."""
    from coach.audio.device import DeviceSink

    sink = DeviceSink()
    try:
        tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(16_000) / 16_000)).astype("<i2").tobytes()
        sink.play(tone * 3)
        time.sleep(1.0)
        sink.cancel()
        sink.play(tone * 2)         # 2 s, then 1 s more queued behind it
        sink.play(tone)
        started = time.monotonic()
        while sink.is_playing() and time.monotonic() - started < 6.0:
            time.sleep(0.02)
        lasted = time.monotonic() - started
    finally:
        sink.close()
    assert 2.9 <= lasted <= 4.0, f"is_playing lasted {lasted:.2f} s for 3 s of sound"


def test_device_source_hears_the_microphone(pulse_rig_env: object, tmp_path: Path) -> None:
    from coach.audio.microphone import DeviceSource
    from coach.audio.wav import write_wav

    wav = tmp_path / "tone.wav"
    write_wav(wav, b"\x00\x00" * 8000 + tone_pcm(1.0) + b"\x00\x00" * 8000)
    source = DeviceSource(SystemClock())
    try:
        chunks = [source.read(0.1)]                              # waits out the first-stream stall
        player = pulse_rig_env.say_into_mic(wav, wait=False)  # type: ignore[attr-defined]
        chunks += [source.read(0.1) for _ in range(30)]
        player.wait(timeout=10)
    finally:
        source.close()
    assert all(c is not None for c in chunks)
    starts = [c.start_seconds for c in chunks]  # type: ignore[union-attr]
    assert np.allclose(np.diff(starts), 0.1)
    levels = [np.abs(np.frombuffer(c.pcm, "<i2")).max() for c in chunks]  # type: ignore[union-attr]
    assert max(levels) > 5_000                                     # the tone peaks at 8,000


def test_devices_lists_the_virtual_card(pulse_rig_env: object) -> None:
    from coach.audio.device import list_devices

    names = {d.name: d for d in list_devices()}
    assert "pulse" in names
    assert names["pulse"].input_channels > 0 and names["pulse"].output_channels > 0


def test_unknown_device_is_one_line_audio_error(pulse_rig_env: object) -> None:
    from coach.audio.device import DeviceSink

    with pytest.raises(AudioDeviceError) as error:
        DeviceSink(device="no-such-device")
    assert error.value.exit_code == 3 and "\n" not in error.value.message


def test_coach_say_speaks_through_the_default_device(pulse_rig_env: object, tmp_path: Path) -> None:
    env = {**os.environ, **pulse_rig_env.env(), "COACH_CACHE_DIR": str(tmp_path),  # type: ignore[attr-defined]
           "PYTHONPATH": str(REPO)}
    capture = open_speaker_capture()
    wait_for_capture(capture)
    done = subprocess.run([sys.executable, "-m", "coach", "say", "Breathe out slowly."],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    time.sleep(0.3)
    recording = capture.stop()
    assert done.returncode == 0, done.stderr
    assert loud_segments(recording.pcm), "coach say produced no sound on coach_speaker"
    devices = subprocess.run([sys.executable, "-m", "coach", "devices", "--json"],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert devices.returncode == 0 and '"pulse"' in devices.stdout


def test_each_play_reports_when_it_really_started_sounding(pulse_rig_env: object) -> None:
    """Two tones queued at once: the second starts when the first ends, not when it was
    queued, and each reported onset is where the capture of the speaker first hears it
    (the same small capture delay for both)."""
    from coach.audio.device import DeviceSink

    sink = DeviceSink(clock=SystemClock())
    capture = open_speaker_capture()
    try:
        wait_for_capture(capture)
        time.sleep(0.5)
        first, second = sink.next_play_mark(), None
        sink.play(tone_pcm(0.4))
        second = sink.next_play_mark()
        sink.play(b"\x00\x00" * 4800 + tone_pcm(0.3))     # 0.3 s of silence, then a tone
        queued_at = time.monotonic()
        time.sleep(1.5)
        onsets = [sink.onset_seconds(first), sink.onset_seconds(second)]
        recording = capture.stop()
    finally:
        sink.close()
    assert None not in onsets, onsets
    assert onsets[0] >= queued_at - 0.05
    assert abs(onsets[1] - onsets[0] - 0.4) < 0.002, onsets
    segments = loud_segments(recording.pcm)
    assert len(segments) == 2, segments
    heard = [recording.sample_arrival_seconds(start) for start, _ in segments]
    capture_delays = [heard[0] - onsets[0], heard[1] - (onsets[1] + 0.3)]
    assert all(-0.03 < d < 0.15 for d in capture_delays), capture_delays
    assert abs(capture_delays[1] - capture_delays[0]) < 0.025, capture_delays


def warmed_up(sink: object) -> None:
    """A process's first output stream on PulseAudio's ALSA plugin stalls for about 2 s."""
    mark = sink.next_play_mark()                                        # type: ignore[attr-defined]
    sink.play(tone_pcm(0.05))                                           # type: ignore[attr-defined]
    deadline = time.monotonic() + 10.0
    while sink.onset_seconds(mark) is None and time.monotonic() < deadline:   # type: ignore[attr-defined]
        time.sleep(0.05)
    time.sleep(0.2)


def test_a_play_cancelled_before_it_sounds_never_gets_an_onset(pulse_rig_env: object) -> None:
    from coach.audio.device import DeviceSink

    sink = DeviceSink(clock=SystemClock())
    try:
        warmed_up(sink)
        sink.play(tone_pcm(2.0))
        behind = sink.next_play_mark()
        sink.play(tone_pcm(0.5))
        time.sleep(0.3)
        assert sink.onset_seconds(behind) is None and not sink.never_sounds(behind)
        sink.cancel()
        time.sleep(0.2)
        assert sink.never_sounds(behind)
        assert sink.onset_seconds(behind) is None
        after = sink.next_play_mark()
        sink.play(tone_pcm(0.2))
        deadline = time.monotonic() + 5.0        # an idle null sink may take a moment to resume
        while sink.onset_seconds(after) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sink.onset_seconds(after) is not None and not sink.never_sounds(after)
    finally:
        sink.close()
