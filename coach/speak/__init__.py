"""Speech out: cues rendered before they are needed (tts/ adapters and the
content-addressed cache), played as PCM through an AudioSink by the Speaker, and the
whole guided session rendered to one audio track.
"""

__all__ = ["render", "speaker", "tts"]
