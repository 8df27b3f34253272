"""Test support: fakes that follow the session's ports, and helpers for event logs and audio."""
