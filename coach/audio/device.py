"""Real audio devices through sounddevice (PortAudio): the device list and the speaker.
The only sounddevice import (the microphone and the recorder use it from here).

sounddevice is imported lazily: PortAudio reads the sound-server environment
(``XDG_RUNTIME_DIR``, ``PULSE_SERVER``) and lists devices when it initialises, so
callers (and the test rig) can set the environment first. A missing PortAudio,
no device or a busy device becomes one ``AudioDeviceError`` line.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from coach.audio import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES
from coach.audio.resample import convert_pcm
from coach.clock import Clock
from coach.errors import AudioDeviceError

BLOCK_SECONDS = 0.02            # 320 frames at 16 kHz: cancel() takes effect within one block


def _sounddevice() -> Any:
    try:
        import sounddevice
    except ImportError as error:  # the Python package itself is missing
        raise AudioDeviceError(
            "sounddevice-missing", "the sounddevice package is not installed; use --text for a text-only session"
        ) from error
    except OSError as error:  # PortAudio library missing
        raise AudioDeviceError(
            "portaudio-missing",
            "PortAudio is not installed (apt install libportaudio2); use --text for a text-only session",
        ) from error
    return sounddevice


def refresh_devices() -> None:
    """Re-read the device list (after a sound server started in this process)."""
    sd = _sounddevice()
    sd._terminate()
    sd._initialize()


@dataclass(frozen=True)
class DeviceInfo:
    index: int
    name: str
    host_api: str
    input_channels: int
    output_channels: int
    default_rate_hz: int
    is_default_input: bool
    is_default_output: bool


def list_devices() -> list[DeviceInfo]:
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
        default_in, default_out = sd.default.device
    except sd.PortAudioError as error:
        raise AudioDeviceError("audio-unavailable", f"cannot list audio devices: {error}") from error
    return [
        DeviceInfo(
            index=index,
            name=str(info["name"]),
            host_api=str(apis[info["hostapi"]]["name"]),
            input_channels=int(info["max_input_channels"]),
            output_channels=int(info["max_output_channels"]),
            default_rate_hz=int(info["default_samplerate"]),
            is_default_input=index == default_in,
            is_default_output=index == default_out,
        )
        for index, info in enumerate(devices)
    ]


def _pick_rate_hz(sd: Any, device: int | str | None, kind: str) -> int:
    """16 kHz when the device takes it, else the device's own rate (we resample)."""
    check = sd.check_output_settings if kind == "output" else sd.check_input_settings
    try:
        check(device=device, samplerate=SAMPLE_RATE_HZ, channels=1, dtype="int16")
        return SAMPLE_RATE_HZ
    except Exception:
        return int(sd.query_devices(device, kind)["default_samplerate"])


def _reason(error: BaseException) -> str:
    """The short cause of a PortAudio error: the host's own words when it gave them."""
    args = getattr(error, "args", ())
    if len(args) >= 3 and isinstance(args[2], tuple) and len(args[2]) == 2 and args[2][1]:
        return str(args[2][1])
    text = str(args[0]) if args else str(error)
    return text.split(": ", 1)[1] if text.startswith("Error opening") and ": " in text else text


def _query(sd: Any, device: int | str | None, kind: str) -> None:
    try:
        sd.query_devices(device, kind)
    except (ValueError, sd.PortAudioError) as error:
        if device is None:
            message = f"no audio {kind} device found"
        else:
            message = f"no audio {kind} device '{device}' ({error})"
        raise AudioDeviceError("no-audio-device", f"{message}; check `coach devices`") from error


class DeviceSink:
    """Callback-driven output: ``play`` enqueues and returns, ``cancel`` empties the queue.

    The callback hands out ``blocksize`` frames at a time, so after ``cancel`` the
    next block is silence; ``flush_on_cancel`` also aborts and restarts the
    stream so audio already buffered below PortAudio is dropped too.

    Each ``play`` starts at a mark (``next_play_mark`` before the call): a position
    in everything ever queued. The callback turns marks into the clock time the
    first sample reaches the converter (``onset_seconds``), because a sound starts
    one to several blocks after ``play``, later still behind queued speech, and the
    echo canceller needs the exact start to find the coach's voice in the microphone.
    """

    def __init__(
        self,
        device: int | str | None = None,
        block_seconds: float = BLOCK_SECONDS,
        latency: str | float = "low",
        flush_on_cancel: bool = True,
        clock: Clock | None = None,
    ) -> None:
        sd = _sounddevice()
        _query(sd, device, "output")
        self._now = clock.now if clock is not None else time.monotonic
        self.rate_hz = SAMPLE_RATE_HZ              # what play() accepts
        self.device_rate_hz = _pick_rate_hz(sd, device, "output")
        self.blocksize_frames = max(1, round(self.device_rate_hz * block_seconds))
        self.underflows = 0
        self._flush_on_cancel = flush_on_cancel
        self._lock = threading.Lock()
        self._pending = bytearray()
        self._audible_until = 0.0                  # clock time the last sound ends at the converter
        self._sounding = False
        self.onset_stream_seconds = 0.0            # DAC time of the latest sound's first sample
        self._queued_frames = 0                    # frames ever queued (cancelled ones count as played)
        self._played_frames = 0                    # frames handed to the device
        self._marks: list[int] = []                # starts of plays not yet handed out
        self._onsets: dict[int, float] = {}        # mark → clock time it reached the converter
        self._closed = False
        self._sd = sd
        try:
            self._stream = sd.RawOutputStream(
                device=device,
                samplerate=self.device_rate_hz,
                channels=1,
                dtype="int16",
                blocksize=self.blocksize_frames,
                latency=latency,
                callback=self._callback,
            )
            self._stream.start()
        except sd.PortAudioError as error:
            raise AudioDeviceError(
                "audio-device-busy", f"cannot open the audio output (busy or unusable: {_reason(error)})"
            ) from error

    def _callback(self, outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        if status.output_underflow:
            self.underflows += 1
        wanted = frames * SAMPLE_WIDTH_BYTES
        with self._lock:
            chunk = bytes(self._pending[:wanted])
            del self._pending[:wanted]
            block_onset = self._now() + self._ahead_seconds(time_info)
            self._note_onsets(len(chunk) // SAMPLE_WIDTH_BYTES, block_onset)
            if chunk:
                if not self._sounding:
                    self.onset_stream_seconds = float(time_info.outputBufferDacTime)
                # sound plays out no faster than real time, however fast a host pulls
                # blocks (some fill a large buffer at once after a restart)
                start = max(self._audible_until, block_onset)
                self._audible_until = start + len(chunk) / SAMPLE_WIDTH_BYTES / self.device_rate_hz
            self._sounding = len(chunk) == wanted
        outdata[: len(chunk)] = chunk
        if len(chunk) < wanted:
            outdata[len(chunk) :] = b"\x00" * (wanted - len(chunk))

    def _ahead_seconds(self, time_info: Any) -> float:
        """How long until this block reaches the converter. Hosts without timing, and
        some right after a restart, report times that do not fit: then the stream's
        latency."""
        ahead = float(time_info.outputBufferDacTime) - float(time_info.currentTime)
        return ahead if 0.0 <= ahead < 2.0 else float(self._stream.latency)

    def _note_onsets(self, frames: int, block_onset: float) -> None:
        """Clock times of the marks in this block (called with the lock held)."""
        first = self._played_frames
        self._played_frames += frames
        if not self._marks or self._marks[0] >= self._played_frames:
            return
        while self._marks and self._marks[0] < self._played_frames:
            mark = self._marks.pop(0)
            self._onsets[mark] = block_onset + (mark - first) / self.device_rate_hz
        for old in list(self._onsets)[:-64]:
            del self._onsets[old]

    def next_play_mark(self) -> int:
        with self._lock:
            return self._queued_frames

    def onset_seconds(self, mark: int) -> float | None:
        """When the play starting at ``mark`` began to sound (clock seconds), else None."""
        with self._lock:
            return self._onsets.get(mark)

    def never_sounds(self, mark: int) -> bool:
        """The play at ``mark`` was cancelled before any of it was handed out."""
        with self._lock:
            return mark < self._played_frames and mark not in self._onsets and mark not in self._marks

    @property
    def lost(self) -> bool:
        """True once the stream stopped by itself (the device was unplugged or the
        sound server dropped it): nothing will be heard, so speak as text."""
        if self._closed:
            return False
        try:
            return not self._stream.active
        except self._sd.PortAudioError:
            return True

    def play(self, pcm: bytes) -> None:
        if self.lost:                               # nothing drains the queue any more
            return
        if self.device_rate_hz != SAMPLE_RATE_HZ:
            pcm = convert_pcm(pcm, SAMPLE_RATE_HZ, self.device_rate_hz)
        with self._lock:
            if pcm:
                self._marks.append(self._queued_frames)
            self._pending.extend(pcm)
            self._queued_frames += len(pcm) // SAMPLE_WIDTH_BYTES

    def cancel(self) -> None:
        with self._lock:        # with the callback's bookkeeping, so no block it took outlives this
            self._pending.clear()
            self._marks.clear()
            self._played_frames = self._queued_frames   # what was queued is skipped, not played
            self._audible_until = 0.0
            self._sounding = False
        if self._flush_on_cancel and self._stream.active:
            try:
                self._stream.abort()
                self._stream.start()
            except self._sd.PortAudioError:
                pass                                # a dead stream is silent anyway

    def is_playing(self) -> bool:
        try:
            if not self._stream.active:             # device lost: nothing will drain the queue
                return False
            with self._lock:
                if self._pending:
                    return True
            return self._now() < self._audible_until
        except self._sd.PortAudioError:
            return False

    @property
    def stream_time(self) -> float:
        """PortAudio's stream clock; comparable only with other PortAudio times (DAC/ADC)."""
        return float(self._stream.time)

    def close(self) -> None:
        self.cancel()
        self._closed = True
        try:
            self._stream.close()
        except self._sd.PortAudioError:
            pass
