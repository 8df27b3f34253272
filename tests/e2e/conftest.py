"""A private PulseAudio server for device tests, set up before sounddevice is imported.

PortAudio lists the ALSA ``pulse`` device only if the server is reachable when
it initialises, so the fixture applies the server's environment first (and
re-initialises PortAudio if something imported sounddevice earlier).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def pulse_rig_env() -> Iterator[object]:
    from coach.testing import pulse

    missing = pulse.missing_tools()
    if missing:
        pytest.skip(f"PulseAudio rig needs {', '.join(missing)} (apt install pulseaudio pulseaudio-utils)")
    saved = {name: os.environ.get(name) for name in ("XDG_RUNTIME_DIR", "PULSE_SERVER")}
    try:
        context = pulse.pulse_rig()
        rig = context.__enter__()
    except RuntimeError as error:
        pytest.skip(f"PulseAudio rig did not start: {error}")
    rig.apply_env()
    if "sounddevice" in sys.modules:
        from coach.audio.device import refresh_devices

        refresh_devices()
    try:
        yield rig
    finally:
        context.__exit__(None, None, None)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if "sounddevice" in sys.modules:
            from coach.audio.device import refresh_devices

            refresh_devices()
