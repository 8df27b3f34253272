"""Listener: microphone chunks → echo removal → endpointing → engine → parser → Heard.

Safe listening: while the coach speaks (and ~300 ms after its last sound, not
after the silence that ends rendered speech), only urgent commands count, with a
stricter confidence, and never words the coach itself is saying. The coach's own
voice is known exactly (``note_playback``, cut short by ``note_cancel``): an echo
canceller estimates its delay and gain in the microphone, trusts them only once
they hold over several windows, and subtracts the echo only where that lowers the
energy, so a wrong estimate can never put the coach's voice into the microphone.
A second stage (``coach.listen.echo_canceller``) learns what a room adds after that path.
A segment mostly explained by the playback is rejected, and so is one the
canceller took far down; one partly explained by it, or heard while the room
is still being learnt, needs a sure engine. Every decision is in audio time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from coach.content.model import Heard
from coach.listen.asr import Hypothesis, SegmentEngine
from coach.audio import SAMPLE_RATE_HZ, AudioChunk
from coach.content.commands import CommandParser, normalise
from coach.listen.echo_canceller import RoomCanceller
from coach.listen.echo_reference import EchoReference, GuardConfig
from coach.listen.endpoint import Endpointer, Segment


class Listener:
    """Feed microphone chunks in order; get the commands decided in them."""

    def __init__(self, engine: SegmentEngine, parser: CommandParser,
                 endpointer: Endpointer | None = None, context: str = "session",
                 guard: GuardConfig | None = None) -> None:
        self.engine = engine
        self.parser = parser
        self.endpointer = endpointer or Endpointer()
        self.guard = guard or GuardConfig()
        self.reference = EchoReference(self.guard)
        self.room = RoomCanceller(self.reference.played, self.reference.known_delay_samples, self.guard.room,
                                  lambda: self.reference.single_path)
        self.context = context
        parser.command_set.commands(context)
        self._mic = np.zeros(0)                 # recent raw mic, for the echo check
        self._mic_start = 0                     # sample index of _mic[0]
        self._next_estimate: int | None = None
        self._speaking_until = -1.0             # audio seconds the coach was last speaking
        self._decided_start: float | None = None    # speech already acted on (early)
        self.observer: Callable[[Segment, Hypothesis | None, Heard | None], None] | None = None
        self.engine_sentence = ""               # which engine and why, for the person

    def set_context(self, name: str) -> None:
        self.parser.command_set.commands(name)      # KeyError for unknown contexts
        self.context = name

    def note_playback(self, text: str, pcm: bytes, start_seconds: float) -> None:
        """The coach plays ``pcm`` (16 kHz int16) from ``start_seconds`` of audio time."""
        self.reference.add(text, pcm, start_seconds)

    def note_cancel(self, at_seconds: float) -> None:
        """Playback was cut at ``at_seconds`` of audio time: stop subtracting and
        guarding against the part of it that never sounded."""
        self.reference.cut(round(at_seconds * SAMPLE_RATE_HZ))
        self._speaking_until = min(self._speaking_until, at_seconds)

    def feed(self, chunk: AudioChunk, speaking: bool) -> list[Heard]:
        if chunk.rate_hz != SAMPLE_RATE_HZ:
            raise ValueError(f"the listener needs {SAMPLE_RATE_HZ} Hz chunks, got {chunk.rate_hz}")
        start = round(chunk.start_seconds * SAMPLE_RATE_HZ)
        if speaking and not self.reference.covers(start, round(chunk.end_seconds * SAMPLE_RATE_HZ)):
            self._speaking_until = max(self._speaking_until, chunk.end_seconds)
        mic = np.frombuffer(chunk.pcm, dtype="<i2").astype(np.float64)
        residual = self._cancel(mic, start)
        pcm = np.clip(np.rint(residual), -32768, 32767).astype("<i2").tobytes()
        heard: list[Heard] = []
        for segment in self.endpointer.feed(pcm, chunk.start_seconds):
            heard.extend(self._decide(segment))
        return heard

    def flush(self) -> list[Heard]:
        """End of input (a file): decide any speech still open."""
        return [h for s in self.endpointer.flush() for h in self._decide(s)]

    # ------------------------------------------------------------ echo

    def _cancel(self, mic: np.ndarray, start: int) -> np.ndarray:
        """Subtract the estimated echo; re-estimate on a fixed sample grid so the
        result does not depend on chunk sizes."""
        if not len(self._mic):
            self._mic_start = start
        self._mic = np.concatenate([self._mic, mic])
        every = round(self.guard.estimate_every_seconds * SAMPLE_RATE_HZ)
        window = round(self.guard.estimate_window_seconds * SAMPLE_RATE_HZ)
        if self._next_estimate is None:
            self._next_estimate = start + window
        out = np.empty_like(mic)
        done = 0
        while done < len(mic):
            piece_end = min(len(mic), max(done + 1, self._next_estimate - start))
            echoes = self.reference.echoes(start + done, piece_end - done, self._echo_spread())
            out[done:piece_end] = _subtract(mic[done:piece_end], echoes, start + done)
            done = piece_end
            if start + done >= self._next_estimate:
                lo = self._next_estimate - window - self._mic_start
                if lo >= 0:
                    self.reference.estimate(self._mic[lo:lo + window], self._next_estimate - window)
                self._next_estimate += every
        out = self.room.cancel(mic, out, start)
        keep = round(5.0 * SAMPLE_RATE_HZ)
        if len(self._mic) > keep:
            self._mic_start += len(self._mic) - keep
            self._mic = self._mic[-keep:]
            self.reference.forget_before(self._mic_start - round(self.guard.max_delay_seconds * SAMPLE_RATE_HZ))
        return out

    def _echo_spread(self) -> int:
        """How many samples either side of the echo path to try: live, each playback
        comes back a few samples off the last, and the first after a pause further."""
        seconds = self.guard.stand_in_seconds if self.reference.standing_in else self.guard.follow_seconds
        return round(seconds * SAMPLE_RATE_HZ)

    def explained(self, segment: Segment) -> float:
        """Fraction of the segment (after echo removal) that the playback still
        explains: high means leftover coach voice, low means someone else spoke."""
        residual = np.frombuffer(segment.pcm, dtype="<i2").astype(np.float64)
        return self.reference.correlate(residual, round(segment.start_seconds * SAMPLE_RATE_HZ))[1]

    def echo_removed_db(self, segment: Segment) -> float:
        """How far echo removal brought the segment's energy down (0 dB: nothing
        removed). Far down means the microphone heard mostly the coach, however
        little of the residue still correlates with what it played."""
        residual = np.frombuffer(segment.pcm, dtype="<i2").astype(np.float64)
        lo = round(segment.start_seconds * SAMPLE_RATE_HZ) - self._mic_start
        raw = self._mic[max(lo, 0):lo + len(residual)]
        if lo < 0 or len(raw) < len(residual):
            return 0.0          # no longer kept: decide on the other measures
        before = float(raw @ raw)
        return 10.0 * float(np.log10(max(float(residual @ residual), 1.0) / before)) if before > 0.0 else 0.0

    def learning_room(self) -> bool:
        """An echo path was found but echo removal does not yet bring the coach's voice
        far down: the room's tail is still being learnt, and may sound like words."""
        return self.room.active and self.room.learned_db < self.guard.learnt_room_db

    # ------------------------------------------------------------ decisions

    def guarded(self, segment: Segment) -> bool:
        tail = self.guard.tail_seconds
        if segment.start_seconds < self._speaking_until + tail:
            return True
        until = self.reference.playing_until(round(segment.end_seconds * SAMPLE_RATE_HZ))
        if until is None:
            return False
        return segment.start_seconds < (until + self.reference.path_delay_samples()) / SAMPLE_RATE_HZ + tail

    def _decide(self, segment: Segment) -> list[Heard]:
        if self._decided_start is not None and _onset(segment) == self._decided_start:
            if not segment.early:
                self._decided_start = None
            return []           # already acted on this speech from its early candidate
        guarded = self.guarded(segment)
        urgent_only = guarded or segment.early
        # The engine always gets the whole context: a grammar of only the urgent
        # phrases would turn any sound into "stop". Urgency filters the result.
        hyp = self.engine.transcribe(segment.pcm, self.context, over_coach=guarded)
        heard = self._accept(hyp, segment, guarded, urgent_only)
        if self.observer is not None:
            self.observer(segment, hyp, heard)
        if heard is None:
            return []
        if segment.early:
            self._decided_start = _onset(segment)
        return [heard]

    def _accept(self, hyp: Hypothesis | None, segment: Segment, guarded: bool,
                urgent_only: bool) -> Heard | None:
        if hyp is None or not hyp.complete:
            return None
        heard = self.parser.parse(hyp.text, self.context, urgent_only)
        if heard is None:
            return None
        if hyp.transcript:          # pain in the person's own words: keep their words
            heard = replace(heard, text=hyp.transcript)
        if guarded:
            strict = self.guard.min_confidence
            if strict is None:
                strict = float(getattr(self.engine, "strict_min", 0.0))
            if hyp.confidence < strict:
                return None
            explained = self.explained(segment)
            limit = self.guard.echo_explained
            start = round(segment.start_seconds * SAMPLE_RATE_HZ)
            end = round(segment.end_seconds * SAMPLE_RATE_HZ)
            tail = round(self.guard.tail_seconds * SAMPLE_RATE_HZ)
            if any(_contains(cue, heard.text) for cue in self.reference.cue_texts(start, end, tail)):
                limit = self.guard.echo_explained_cue_word
            if explained >= limit or self.echo_removed_db(segment) <= self.guard.echo_removed_db:
                return None
            unsure = explained >= self.guard.echo_uncertain or self.learning_room()
            if unsure and hyp.confidence < self.guard.uncertain_min_confidence:
                return None
        return replace(heard, confidence=float(hyp.confidence), source="voice",
                       audio_start_seconds=segment.start_seconds,
                       audio_end_seconds=segment.end_seconds,
                       decided_seconds=segment.decided_seconds)


def open_listener(settings: Any, clock: Any = None, engine: str | None = None,
                  progress: Callable[[int, int], None] | None = None) -> Listener:
    """Composition seam for sessions: the engine from ``engine``, ``settings.engine``
    or $COACH_ENGINE (default auto). Raises ModelError when only the keyboard is left.
    ``progress(done, total)``: how far adapting to the enrolled voice has got."""
    import os

    from coach.listen.asr.select import build_engine, choose_engine
    from coach.content.commands import default_commands_path, load_commands
    from coach.errors import ModelError

    requested = engine or getattr(settings, "engine", None) or os.environ.get("COACH_ENGINE") or "auto"
    choice = choose_engine(requested)
    if choice.engine == "keyboard":
        raise ModelError("no-recognizer", choice.reason)
    command_set = load_commands(default_commands_path(getattr(settings, "content_dir", None)))
    listener = Listener(build_engine(choice, command_set, progress=progress), CommandParser(command_set))
    listener.engine_sentence = choice.reason
    return listener


def _subtract(mic: np.ndarray, echoes: np.ndarray, start_sample: int,
              frame: int = SAMPLE_RATE_HZ // 100) -> np.ndarray:
    """``mic`` minus the best of ``echoes`` (one row per nearby delay) frame by frame
    (10 ms frames on the session's sample grid), but only where that lowers the
    energy: a wrong estimate must never add the coach's voice to the microphone."""
    if not echoes.any():
        return mic
    starts = np.array([0, *range(frame - start_sample % frame, len(mic), frame)])
    starts = starts[starts < len(mic)]
    residuals = mic[None, :] - echoes
    energy = np.add.reduceat(residuals ** 2, starts, axis=1)
    best = np.argmin(energy, axis=0)
    lowers = energy[best, np.arange(len(starts))] < np.add.reduceat(mic ** 2, starts)
    out = mic.copy()
    for index, (lo, hi) in enumerate(zip(starts, [*starts[1:], len(mic)])):
        if lowers[index]:
            out[lo:hi] = residuals[best[index], lo:hi]
    return out


def _contains(cue_text: str, phrase_text: str) -> bool:
    cue, phrase = normalise(cue_text), normalise(phrase_text)
    return any(cue[i:i + len(phrase)] == phrase for i in range(len(cue) - len(phrase) + 1))


def _onset(segment: Segment) -> float:
    """Which speech a segment is (its early candidate and final segment share it)."""
    return segment.onset_seconds if segment.onset_seconds is not None else segment.start_seconds
