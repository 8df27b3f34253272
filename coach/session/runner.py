"""The runner: a thin shell that performs what coach.session.policy decides.

It waits out each cue in blocks on the session clock. In each block it reads the
microphone (a file source advances the virtual clock itself, otherwise the clock
sleeps), feeds the listener, polls the keys and turns what was heard into session
events. Urgent commands cancel audio in the block they are decided in. Pain with a
triage hook runs the triage conversation over the same audio (``DialogIO``, in
``coach.session.conversation``), and so does the baseline pain question before the routine.

Every wait goes through ``next_heard``: the routine's blocks, speech being waited
out, the questions and the rests between them. So 'stop' and pain are honoured the
same way in every state: heard once, they are never lost between two waits.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from coach.content.model import Heard
from coach.audio import SAMPLE_WIDTH_BYTES, AudioSink, AudioSource
from coach.audio.null import NullSink
from coach.clock import Clock
from coach.session.dialog import PainReport
from coach.session.events import EventLog
from coach.session import policy as s
from coach.session.conversation import baseline_conversation, question_conversation, triage_conversation
from coach.session.ports import (  # noqa: F401  (RunResult and exit_code_for are public here too)
    AfterHook, BaselineHook, KeyInput, Listener, MorningHook, PainHook, RunResult, Speaker, exit_code_for,
)
from coach.script.groups import group_rest_seconds
from coach.script.timeline import Timeline, estimate_speech_seconds
from coach.session.view import View
from coach.session.waiting import Waiting

DEFAULT_BLOCK_SECONDS = 0.03
END_SPEECH_MAX_SECONDS = 15.0
SPEAKER_LOST_LINE = "coach: the speaker was lost (no audio output any more): showing text"


class Runner(Waiting):
    """Performs the policy's effects: cues, speech, triage and the end; the waits are ``Waiting``'s."""

    def __init__(self, timeline: Timeline, clock: Clock, *, events: EventLog,
                 sink: AudioSink | None = None, speaker: Speaker | None = None,
                 source: AudioSource | None = None, listener: Listener | None = None,
                 keys: KeyInput | None = None, view: View | None = None,
                 on_pain: PainHook | None = None,
                 idle_timeout_seconds: float = s.DEFAULT_IDLE_TIMEOUT_SECONDS,
                 block_seconds: float = DEFAULT_BLOCK_SECONDS,
                 start_fields: dict[str, Any] | None = None,
                 opening_lines: tuple[str, ...] = (),
                 fallback_keys: Callable[[], KeyInput | None] | None = None,
                 ask_baseline: BaselineHook | None = None,
                 ask_morning: MorningHook | None = None,
                 ask_after: AfterHook | None = None,
                 rise_stops_exercise: int = s.DEFAULT_RISE_STOPS_EXERCISE) -> None:
        self.timeline = timeline
        self.clock = clock
        self.events = events
        self.sink: AudioSink = sink if sink is not None else NullSink(clock)
        self.speaker = speaker
        self.source = source
        self.listener = listener
        self.keys = keys
        self.view = view
        self.on_pain = on_pain
        self.block_seconds = block_seconds
        self.start_fields = start_fields or {}
        self.opening_lines = opening_lines     # e.g. the first-run notice, spoken before the routine
        self.fallback_keys = fallback_keys     # keyboard to fall back on when the microphone is lost
        self.ask_baseline = ask_baseline       # the pain rating before the routine (decision 9)
        self.ask_morning = ask_morning         # this morning vs usual, on the first start of a day
        self.ask_after = ask_after             # the pain rating once the routine has completed
        self._group_rest = group_rest_seconds(timeline)
        self.state = s.initial_state(triage_enabled=on_pain is not None,
                                     idle_timeout_seconds=idle_timeout_seconds,
                                     rise_stops_exercise=rise_stops_exercise)
        self.cue_index: int | None = None
        self.cue_deadline: float | None = None
        self.result: RunResult | None = None
        self.pending_heard: list[Heard] = []   # heard in a block, not yet taken by a wait
        self.stop_heard: Heard | None = None   # a 'stop' that ends the session: every wait returns it
        self.silenced_for: str | None = None   # audio already cancelled (and logged) for this, nothing played since

    # -- main loop -------------------------------------------------------------
    def run(self) -> RunResult:
        self.events.emit("session-started", session_id=self.events.session_id,
                         routine_id=self.timeline.routine_id, routine_name=self.timeline.routine_name,
                         total_seconds=round(self.timeline.total_seconds, 3),
                         cue_count=len(self.timeline.cues), **self.start_fields)
        if self.view:
            self.view.session_started(self.timeline)
        self.set_context("session")
        try:
            urgent = self._opening()
            if urgent is None and self.ask_morning is not None:
                _report, urgent = question_conversation(self, self.ask_morning)
            if urgent is not None:
                self._dispatch(s.CommandHeard(urgent, self.clock.now()))
            elif self.ask_baseline is not None:
                self._dispatch(baseline_conversation(self, self.ask_baseline))
            if self.result is None and self.cue_index is None:
                self._dispatch(s.Started(self.clock.now()))
            while self.result is None:
                self._step()
        except KeyboardInterrupt:
            self.sink.cancel()
            self._finish("interrupted")
            raise
        finally:
            if self.view:
                self.view.close()
        return self.result

    def _step(self) -> None:
        now = self.clock.now()
        if self.state.mode == "running":
            wait = self.cue_deadline - now if self.cue_deadline is not None else 0.0
            if wait <= 1e-9:     # also a cue cut short with nothing to follow it: go on
                self._dispatch(s.CueFinished(self.state.index, now))
                return
        else:
            started = self.state.paused_seconds if self.state.paused_seconds is not None else now
            wait = max(1e-3, self.state.idle_timeout_seconds - (now - started))
        self._listen(self._block_for(wait))
        if self.result is None and self.state.mode in ("paused", "waiting"):
            self._dispatch(s.TimePassed(self.clock.now()))
        if self.view and self.result is None and self.view.due(self.events.now()):
            self.view.mode = self.state.mode
            self.view.tick(self.events.now(), self._cue_left(), s.seconds_left(self.state, self.timeline, self.clock.now()))

    def _opening(self) -> Heard | None:
        """The opening lines; 'stop' or pain over them is returned (the rest is not said)."""
        for line in self.opening_lines:
            self.speak(line, "notice")
            heard = self.wait_speech("urgent")
            if heard is not None:
                return heard
        return None

    def _cue_left(self) -> float:
        """Seconds left in the current group (a whole hold, rest or set of counts)."""
        if self.cue_deadline is None or self.cue_index is None:
            return 0.0
        return max(0.0, self.cue_deadline - self.clock.now()) + self._group_rest[self.cue_index]

    # -- effects -----------------------------------------------------------------
    def _dispatch(self, event: s.Event) -> None:
        self.state, effects = s.transition(self.state, event, self.timeline)
        for effect in effects:
            self._execute(effect)

    def _execute(self, effect: s.Effect) -> None:
        if isinstance(effect, s.CancelAudio):
            self.cancel_audio()
            if self.silenced_for != effect.reason:      # a wait already cut the audio for this
                self.events.emit("audio-cancelled", reason=effect.reason, cue_index=self.cue_index)
            self.silenced_for = None
            self._end_cue("cancelled")
        elif isinstance(effect, s.StartCue):
            self._start_cue(effect)
        elif isinstance(effect, s.Say):
            self.speak(effect.text, effect.purpose)
        elif isinstance(effect, s.StartTriage):
            self._triage(effect.report)
        elif isinstance(effect, s.End):
            self._finish(self._after_question() if effect.reason == "completed" else effect.reason)
        elif isinstance(effect, s.LogEvent):
            self.events.emit(effect.type, **effect.fields)

    def cancel_audio(self) -> None:
        """Silence the sink and tell the listener the rest of the sound never played."""
        self.sink.cancel()
        note_cancel = getattr(self.listener, "note_cancel", None)
        if note_cancel is not None:
            note_cancel(self.clock.now())

    def _start_cue(self, effect: s.StartCue) -> None:
        self._end_cue("skipped" if effect.reason in ("jump", "repeat") else "finished")
        cue = self.timeline.cues[effect.index]
        self.events.emit("cue-started", index=effect.index, kind=cue.kind, text=cue.text,
                         purpose=cue.purpose, exercise_id=cue.exercise_id, seconds=effect.seconds,
                         side=cue.side, set=cue.set_number, rep=cue.rep_number,
                         **({"resumed_at": effect.offset_seconds} if effect.offset_seconds else {}))
        if self.view:
            self.view.cue_started(effect.index, cue, self.events.now(),
                                  s.seconds_left(self.state, self.timeline, self.clock.now()))
        seconds = effect.seconds
        if cue.kind in ("say", "count", "listen") and cue.text and effect.offset_seconds == 0:
            seconds = max(seconds, self._play(cue.text, seconds if cue.kind != "listen" else None))
        self.cue_index = effect.index
        self.cue_deadline = self.clock.now() + seconds

    def _end_cue(self, reason: str) -> None:
        if self.cue_index is not None:
            self.events.emit("cue-ended", index=self.cue_index, reason=reason)
        self.cue_index = None
        self.cue_deadline = None

    def _play(self, text: str, estimate_seconds: float | None = None) -> float:
        """Start speaking ``text``; return its length in seconds."""
        self.silenced_for = None
        if self.speaker is None:
            seconds = estimate_seconds if estimate_seconds is not None else estimate_speech_seconds(text)
            if isinstance(self.sink, NullSink):
                self.sink.play_seconds(seconds)
            return seconds
        if getattr(self.sink, "lost", False):
            self._speaker_lost()
            return self._play(text, estimate_seconds)
        pcm = self.speaker.pcm(text)
        if self.listener is not None:
            self.listener.note_playback(text, pcm, self.clock.now())
        self.sink.play(pcm)
        return len(pcm) / SAMPLE_WIDTH_BYTES / self.sink.rate_hz

    def _speaker_lost(self) -> None:
        """A lost speaker never ends the session: carry on as text on the same clock."""
        self.events.emit("output-lost")
        print(SPEAKER_LOST_LINE, file=sys.stderr, flush=True)
        self.speaker = None
        self.sink = NullSink(self.clock)

    def speak(self, text: str, purpose: str, play: bool = True) -> float:
        """Speech outside the timeline (messages, help, triage): printed and played."""
        if self.view:
            self.view.said(text, self.events.now(), purpose)
        self.events.emit("said", text=text, purpose=purpose, **({} if play else {"spoken": False}))
        return self._play(text) if play else 0.0

    def wait_speech(self, collect: str = "urgent") -> Heard | None:
        """Wait until the sink is quiet, still listening; return what cut the speech short.

        ``collect``: "urgent" takes 'stop' and 'pain' only (words over a statement
        answer nothing); "all" also takes answers given over a question.
        """
        return self.next_heard(END_SPEECH_MAX_SECONDS, until_quiet=True,
                               answers=collect == "all")

    def _finish(self, reason: str) -> None:
        """The session ends now; its closing words play out after (a 'stop' cuts them)."""
        if self.result is not None:
            return
        self._end_cue("ended")
        self.events.emit("session-ended", reason=reason)
        if self.view:
            self.view.session_ended(reason, self.events.now())
        self.result = RunResult(reason, exit_code_for(reason))
        self.stop_heard = None
        self.pending_heard.clear()
        if reason != "interrupted":
            self.next_heard(END_SPEECH_MAX_SECONDS, until_quiet=True, record=False)

    def _after_question(self) -> str:
        """The pain rating once the routine has completed. 'stop' ends at once, as
        everywhere (status 10); pain starts the safety questions, whose outcome may
        end it as triage. Returns the reason the session ends with."""
        if self.ask_after is None or self.result is not None:
            return "completed"
        _value, urgent = question_conversation(self, self.ask_after)
        if urgent is None:
            return "completed"
        self.cancel_audio()
        if self.silenced_for != urgent.command:      # the wait may have cut the audio already
            self.events.emit("audio-cancelled", reason=urgent.command, cue_index=None)
        if urgent.command == "stop":
            self.speak(s.STOPPED_TEXT, "message")
            return "stopped"
        if self.on_pain is None:
            self.speak(s.PAIN_TEXT, "pain")
            return "pain"
        report = PainReport(trigger="keyboard" if urgent.source == "keyboard" else "voice",
                            text=urgent.text, routine_done=True)
        action = triage_conversation(self, self.on_pain, report).session_action
        return {"end": "triage", "end-today": "triage-end-today"}.get(action, "completed")

    def _triage(self, report: PainReport) -> None:
        assert self.on_pain is not None
        self._end_cue("cancelled")
        self._dispatch(s.TriageFinished(triage_conversation(self, self.on_pain, report), self.clock.now()))
