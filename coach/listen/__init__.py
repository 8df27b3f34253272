"""Speech in: microphone chunks -> echo removal -> endpointing -> a recognition
engine (asr/) -> the command parser -> Heard; also the keyboard input, enrolment of
the user's own clips (with its level meter), model downloads and debug recordings.
"""

__all__ = ["asr", "debug_recording", "echo_canceller", "echo_reference", "endpoint", "enroll", "keyboard",
           "listener", "models", "playback_timing"]
