"""The software room: what the tap remembers and what the echo source adds, sample by sample."""

from __future__ import annotations

import numpy as np
import pytest

from coach.audio import AudioChunk
from coach.audio.echo import EchoSource, PlaybackTap, db_to_gain, resample_int16, room_response
from coach.clock import VirtualClock

RATE = 16_000
HALF_DB = 20 * np.log10(0.5)     # a gain of exactly one half


class RecordingSink:
    rate_hz = RATE

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.playing = False
        self.closed = False

    def play(self, pcm: bytes) -> None:
        self.calls.append(("play", len(pcm)))
        self.playing = True

    def cancel(self) -> None:
        self.calls.append(("cancel", 0))
        self.playing = False

    def is_playing(self) -> bool:
        return self.playing

    def close(self) -> None:
        self.closed = True


class ArraySource:
    """A file-like microphone: returns consecutive blocks and advances the virtual clock."""

    rate_hz = RATE

    def __init__(self, samples: np.ndarray, clock: VirtualClock) -> None:
        self.samples = samples.astype(np.int16)
        self.clock = clock
        self.origin = clock.now()
        self.pos = 0
        self.closed = False

    def read(self, block_seconds: float) -> AudioChunk | None:
        n = int(round(block_seconds * RATE))
        if self.pos >= self.samples.size:
            return None
        block = self.samples[self.pos : self.pos + n]
        chunk = AudioChunk(block.tobytes(), RATE, self.origin + self.pos / RATE)
        self.pos += block.size
        self.clock.advance(block.size / RATE)
        return chunk

    def close(self) -> None:
        self.closed = True


def ramp(n: int, start: int = 1) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.int16)


def pcm(samples: np.ndarray) -> bytes:
    return samples.astype(np.int16).tobytes()


def test_tap_forwards_every_call_to_the_inner_sink() -> None:
    sink = RecordingSink()
    tap = PlaybackTap(sink, VirtualClock())
    tap.play(pcm(ramp(10)))
    assert tap.is_playing()
    tap.cancel()
    assert not tap.is_playing()
    tap.close()
    assert sink.calls == [("play", 20), ("cancel", 0)]
    assert sink.closed
    assert tap.rate_hz == RATE


def test_played_places_audio_at_the_clock_time_of_play() -> None:
    clock = VirtualClock()
    tap = PlaybackTap(RecordingSink(), clock)
    clock.advance(0.5)                      # sample 8000
    tap.play(pcm(ramp(100)))
    window = tap.played(0.5 - 10 / RATE, 30)
    assert window[:10].tolist() == [0] * 10
    assert window[10:].tolist() == list(range(1, 21))
    assert tap.played(0.0, 8000).tolist() == [0] * 8000
    assert tap.played(0.5 + 100 / RATE, 50).tolist() == [0] * 50
    assert tap.play_times_seconds == (0.5,)


def test_cancel_cuts_the_emission_at_the_cancel_time() -> None:
    clock = VirtualClock()
    tap = PlaybackTap(RecordingSink(), clock)
    tap.play(pcm(ramp(1000)))
    clock.advance(400 / RATE)
    tap.cancel()
    window = tap.played(0.0, 1000)
    assert window[:400].tolist() == list(range(1, 401))
    assert not window[400:].any()
    assert tap.cancel_times_seconds == (pytest.approx(400 / RATE),)


def test_a_play_after_cancel_is_not_cut() -> None:
    clock = VirtualClock()
    tap = PlaybackTap(RecordingSink(), clock)
    tap.play(pcm(ramp(100)))
    clock.advance(50 / RATE)
    tap.cancel()
    clock.advance(50 / RATE)
    tap.play(pcm(np.full(20, 7)))
    window = tap.played(0.0, 140)
    assert window[:50].tolist() == list(range(1, 51))
    assert not window[50:100].any()
    assert window[100:120].tolist() == [7] * 20
    assert not window[120:].any()


def test_a_play_while_sounding_is_queued_after_it() -> None:
    clock = VirtualClock()
    tap = PlaybackTap(RecordingSink(), clock)
    tap.play(pcm(np.full(10, 300)))
    clock.advance(5 / RATE)
    tap.play(pcm(np.full(10, 7)))
    window = tap.played(0.0, 25)
    assert window[:10].tolist() == [300] * 10
    assert window[10:20].tolist() == [7] * 10
    assert not window[20:].any()
    assert tap.play_times_seconds == (0.0, 10 / RATE)


def test_cancel_drops_queued_sounds() -> None:
    clock = VirtualClock()
    tap = PlaybackTap(RecordingSink(), clock)
    tap.play(pcm(np.full(100, 1)))
    tap.play(pcm(np.full(100, 2)))
    clock.advance(30 / RATE)
    tap.cancel()
    window = tap.played(0.0, 300)
    assert window[:30].tolist() == [1] * 30
    assert not window[30:].any()


def test_the_tap_hears_what_the_file_sink_writes() -> None:
    memory = pytest.importorskip("coach.audio.memory", reason="coach.audio.memory not present yet")
    clock = VirtualClock(start_seconds=3.0)
    file_like = memory.MemorySink(clock)
    tap = PlaybackTap(file_like, clock)
    rng = np.random.default_rng(7)
    for step in range(40):
        action = rng.integers(0, 3)
        if action == 0:
            tap.play(pcm(rng.integers(-2000, 2000, size=int(rng.integers(1, 400)))))
        elif action == 1 and step % 5 == 0:
            tap.cancel()
        clock.advance(int(rng.integers(0, 300)) / RATE)
    clock.advance(0.1)
    expected = np.zeros(file_like.end_sample, dtype=np.int32)
    for sound in file_like.placed:
        audible = np.frombuffer(sound.audible_pcm, np.int16)
        expected[sound.start_sample : sound.start_sample + audible.size] += audible
    assert tap.played(0.0, expected.size).tolist() == expected.tolist()


def test_origin_shifts_the_session_timeline() -> None:
    clock = VirtualClock(start_seconds=100.0)
    tap = PlaybackTap(RecordingSink(), clock)                    # origin: the clock now
    clock.advance(1.0)
    tap.play(pcm(ramp(4)))
    assert tap.played(1.0, 4).tolist() == [1, 2, 3, 4]
    explicit = PlaybackTap(RecordingSink(), clock, origin_seconds=100.5)
    explicit.play(pcm(ramp(4)))
    assert explicit.played(0.5, 4).tolist() == [1, 2, 3, 4]


def test_echo_adds_delayed_scaled_playback_to_the_mic() -> None:
    clock = VirtualClock()
    mic = np.full(RATE, 100, dtype=np.int16)
    tap = PlaybackTap(RecordingSink(), clock)
    source = EchoSource(ArraySource(mic, clock), tap, gain_db=HALF_DB, delay_ms=40)
    delay = 640                                   # 40 ms at 16 kHz
    first = source.read(0.01)                     # samples 0..159; clock now at 160
    assert np.frombuffer(first.pcm, np.int16).tolist() == [100] * 160
    tap.play(pcm(np.full(2000, 200)))             # starts at sample 160
    out = []
    while (chunk := source.read(0.01)) is not None:
        out.append(np.frombuffer(chunk.pcm, np.int16))
    got = np.concatenate([np.frombuffer(first.pcm, np.int16)] + out)
    echo_start = 160 + delay
    assert got[:echo_start].tolist() == [100] * echo_start
    assert got[echo_start : echo_start + 2000].tolist() == [200] * 2000     # 100 + 200/2
    assert got[echo_start + 2000 :].tolist() == [100] * (RATE - echo_start - 2000)


def test_echo_keeps_the_mic_timeline_and_block_length() -> None:
    clock = VirtualClock()
    tap = PlaybackTap(RecordingSink(), clock)
    source = EchoSource(ArraySource(np.zeros(800, np.int16), clock), tap, gain_db=0.0, delay_ms=0)
    starts = []
    while (chunk := source.read(0.02)) is not None:
        starts.append((chunk.start_seconds, chunk.samples, chunk.rate_hz))
    assert starts == [(i * 0.02, 320, RATE) for i in range(2)] + [(0.04, 160, RATE)]
    assert source.rate_hz == RATE


def test_echo_lines_up_when_the_clock_does_not_start_at_zero() -> None:
    clock = VirtualClock(start_seconds=1000.0)
    tap = PlaybackTap(RecordingSink(), clock)
    source = EchoSource(ArraySource(np.zeros(400, np.int16), clock), tap, gain_db=0.0, delay_ms=5)
    tap.play(pcm(ramp(100)))
    got = np.concatenate([np.frombuffer(c.pcm, np.int16) for c in iter(lambda: source.read(0.01), None)])
    assert not got[:80].any()
    assert got[80:180].tolist() == list(range(1, 101))
    assert not got[180:].any()


def test_cancel_cuts_the_echo_too() -> None:
    clock = VirtualClock()
    tap = PlaybackTap(RecordingSink(), clock)
    source = EchoSource(ArraySource(np.zeros(4000, np.int16), clock), tap, gain_db=0.0, delay_ms=10)
    tap.play(pcm(ramp(3000)))                       # at sample 0
    got = [np.frombuffer(source.read(0.05).pcm, np.int16)]   # samples 0..799
    tap.cancel()                                    # at sample 800
    while (chunk := source.read(0.05)) is not None:
        got.append(np.frombuffer(chunk.pcm, np.int16))
    mixed = np.concatenate(got)
    assert not mixed[:160].any()                    # 10 ms of flight
    assert mixed[160:960].tolist() == list(range(1, 801))
    assert not mixed[960:].any()


def test_echo_clips_to_int16() -> None:
    clock = VirtualClock()
    tap = PlaybackTap(RecordingSink(), clock)
    source = EchoSource(ArraySource(np.full(100, -30000, np.int16), clock), tap, gain_db=0.0, delay_ms=0)
    tap.play(pcm(np.full(100, -30000)))
    assert tap.played(0.0, 1).tolist() == [-30000]
    assert np.frombuffer(source.read(0.01).pcm, np.int16).tolist() == [-32768] * 100


def test_end_of_input_passes_through_and_close_reaches_the_mic() -> None:
    clock = VirtualClock()
    inner = ArraySource(np.zeros(10, np.int16), clock)
    source = EchoSource(inner, PlaybackTap(RecordingSink(), clock), gain_db=-6, delay_ms=40)
    assert source.read(0.1) is not None
    assert source.read(0.1) is None
    source.close()
    assert inner.closed


def test_gain_and_bad_settings() -> None:
    assert db_to_gain(0) == 1.0
    assert db_to_gain(-20) == pytest.approx(0.1)
    clock = VirtualClock()
    with pytest.raises(ValueError):
        EchoSource(ArraySource(np.zeros(1), clock), PlaybackTap(RecordingSink(), clock), -6, -1)
    with pytest.raises(ValueError):
        EchoSource(ArraySource(np.zeros(1), clock), PlaybackTap(RecordingSink(), clock, rate_hz=8000), -6, 0)


def test_a_sink_at_another_rate_is_recorded_at_the_mic_rate() -> None:
    class FastSink(RecordingSink):
        rate_hz = 32_000

    clock = VirtualClock()
    tap = PlaybackTap(FastSink(), clock)
    tap.play(pcm(np.full(64, 1000)))                # 2 ms at 32 kHz
    window = tap.played(0.0, 40)
    assert window[:32].tolist() == [1000] * 32
    assert not window[32:].any()
    assert resample_int16(np.arange(4, dtype=np.int16), RATE, RATE).tolist() == [0, 1, 2, 3]


def test_echo_of_the_file_sink_into_the_file_microphone(tmp_path) -> None:
    """The room loop as `coach run --mic --speaker --echo-db` wires it, without engines."""
    filesource = pytest.importorskip("coach.audio.filesource", reason="coach.audio.filesource not present yet")
    wav = pytest.importorskip("coach.audio.wav", reason="coach.audio.wav not present yet")
    mic = np.zeros(RATE // 2, np.int16)
    mic[100] = 5
    wav.write_wav(tmp_path / "mic.wav", mic.tobytes())
    clock = VirtualClock()
    tap = PlaybackTap(wav.WavFileSink(tmp_path / "out.wav", clock), clock)
    source = EchoSource(filesource.WavSource(tmp_path / "mic.wav", clock), tap, gain_db=HALF_DB, delay_ms=40)
    got = [np.frombuffer(source.read(0.03).pcm, np.int16)]          # 480 samples; clock at 0.03 s
    tap.play(pcm(np.full(1000, 400)))                                 # sounds from sample 480
    for _ in range(20):
        got.append(np.frombuffer(source.read(0.03).pcm, np.int16))
    tap.close()
    heard = np.concatenate(got)
    written = np.frombuffer(wav.read_wav(tmp_path / "out.wav"), np.int16)
    assert heard[100] == 5
    assert not heard[101 : 480 + 640].any()
    assert heard[480 + 640 : 480 + 640 + 1000].tolist() == [200] * 1000
    assert not heard[480 + 640 + 1000 :].any()
    assert written[480:1480].tolist() == [400] * 1000


def test_a_room_response_is_the_direct_sound_then_a_decaying_tail_as_strong() -> None:
    response = room_response(0.4, RATE)
    assert response.size == int(0.4 * RATE) and response[0] == 1.0
    assert not response[1:48].any()                                  # 3 ms before the first reflection
    tail = response[1:]
    assert np.sqrt((tail ** 2).sum()) == pytest.approx(1.0)          # 0 dB direct-to-reverberant
    early, late = tail[:1600], tail[-1600:]                           # first and last 100 ms
    assert 20 * np.log10(np.sqrt((early ** 2).mean()) / np.sqrt((late ** 2).mean())) > 40
    assert np.array_equal(room_response(0.4, RATE), response)         # seeded: sessions repeat
    assert room_response(0.0, RATE).tolist() == [1.0]


def test_a_room_echo_rings_on_after_the_sound_and_is_the_response_convolved() -> None:
    clock = VirtualClock()
    tap = PlaybackTap(RecordingSink(), clock)
    source = EchoSource(ArraySource(np.zeros(RATE, np.int16), clock), tap, gain_db=0.0, delay_ms=10,
                        room_rt60_seconds=0.3)
    burst = (np.sin(np.arange(1600) / 5.0) * 8000).astype(np.int16)
    tap.play(pcm(burst))                                              # 100 ms at sample 0
    got = np.concatenate([np.frombuffer(c.pcm, np.int16) for c in iter(lambda: source.read(0.03), None)])
    expected = np.convolve(burst.astype(np.float64), room_response(0.3, RATE))
    assert not got[:160].any()                                        # 10 ms of flight
    np.testing.assert_allclose(got[160:160 + expected.size], expected, atol=1.0)
    assert np.abs(got[160 + 1600 + 800:160 + 1600 + 1600]).max() > 30  # still ringing 50-100 ms after


def test_a_negative_reverberation_time_is_refused() -> None:
    clock = VirtualClock()
    with pytest.raises(ValueError):
        EchoSource(ArraySource(np.zeros(1), clock), PlaybackTap(RecordingSink(), clock), -6, 0, room_rt60_seconds=-1)


def test_the_room_filter_is_numpys_valid_convolution_and_skips_silence() -> None:
    from coach.audio.echo import _RoomFilter

    response = room_response(0.2, RATE)
    room = _RoomFilter(response)
    signal = (np.random.default_rng(3).standard_normal(response.size + 480) * 3000).astype(np.int16)
    for _ in range(2):                                                 # the second from the kept spectrum
        np.testing.assert_allclose(room.valid(signal), np.convolve(signal.astype(np.float64), response, "valid"),
                                   atol=1e-6)
    silent = room.valid(np.zeros(response.size + 480, np.int16))
    assert silent.shape == (481,) and not silent.any()
