"""The runner in virtual time with fakes: timing, urgent cancel, triage hook, inputs, view."""

from __future__ import annotations

import io
import os
import wave

import numpy as np
import pytest

from coach.listen.asr import Heard
from coach.listen.keyboard import KeyInput, key_to_heard
from coach.audio.filesource import SilenceSource, WavSource
from coach.audio.null import NullSink
from coach.clock import VirtualClock
from coach.session.dialog import PainReport, TriageResult
from coach.session.events import EventLog
from coach.session.runner import DEFAULT_BLOCK_SECONDS, Runner
from coach.script.engine import build_timeline
from coach.session.policy import IDLE_TEXT, PAIN_TEXT, STOPPED_TEXT
from coach.testing.fakes import RecordingSink, ScriptedKeys, ScriptedListener, SilentSpeaker, sample_library
from coach.session.view import View

LIB = sample_library()
TIMELINE = build_timeline(LIB.routines["gentle"], LIB)


def make_runner(clock=None, **kw):
    clock = clock or VirtualClock()
    events = EventLog(None, clock, session_id="test")
    kw.setdefault("view", View(io.StringIO(), live=False))
    return Runner(kw.pop("timeline", TIMELINE), clock, events=events, **kw), clock, events


def types(events):
    return [e["type"] for e in events.events]


def test_virtual_time_with_no_input_plays_the_whole_routine():
    runner, clock, events = make_runner()
    result = runner.run()
    assert (result.reason, result.exit_code) == ("completed", 0)
    started = events.of_type("cue-started")
    assert [e["index"] for e in started] == list(range(len(TIMELINE.cues)))
    assert types(events)[0] == "session-started" and types(events)[-1] == "session-ended"
    assert events.events[-1]["t"] == pytest.approx(TIMELINE.total_seconds, abs=0.01)
    # cue start times are the running sum of cue lengths
    t = 0.0
    for event, cue in zip(started, TIMELINE.cues):
        assert event["t"] == pytest.approx(t, abs=0.01)
        t += cue.seconds


def test_speech_is_played_through_the_sink_and_long_speech_is_waited_for():
    clock = VirtualClock()
    sink = RecordingSink(clock)
    speaker = SilentSpeaker(seconds_per_char=0.2)     # slower than the estimate
    runner, _, events = make_runner(clock, sink=sink, speaker=speaker)
    runner.run()
    spoken = [c for c in TIMELINE.cues if c.kind in ("say", "count", "listen")]
    assert speaker.texts == [c.text for c in spoken]
    plays = [r for r in sink.records if r.action == "play"]
    # no cue starts before the speech of the one before has ended
    for before, after in zip(plays, plays[1:]):
        assert after.at_seconds >= before.at_seconds + before.seconds - 1e-6


def test_stop_key_cancels_audio_in_the_same_block_and_exits_10():
    clock = VirtualClock()
    sink = RecordingSink(clock)
    keys = ScriptedKeys(clock, [(30.0, "stop")])
    runner, _, events = make_runner(clock, sink=sink, speaker=SilentSpeaker(), keys=keys)
    result = runner.run()
    assert (result.reason, result.exit_code) == ("stopped", 10)
    cancel = next(r for r in sink.records if r.action == "cancel")
    assert 30.0 <= cancel.at_seconds <= 30.0 + DEFAULT_BLOCK_SECONDS + 1e-9
    after = sink.records[sink.records.index(cancel) + 1:]
    assert [r.action for r in after] == ["play"]          # then "Stopped." only
    said = events.of_type("said")
    assert said[-1]["text"] == STOPPED_TEXT
    order = types(events)
    assert order.index("command-heard") < order.index("audio-cancelled") < order.index("session-ended")


def test_pain_without_triage_tells_the_person_to_stop_and_ends():
    clock = VirtualClock()
    keys = ScriptedKeys(clock, [(50.0, "pain")])
    runner, _, events = make_runner(clock, keys=keys)
    result = runner.run()
    assert (result.reason, result.exit_code) == ("pain", 10)
    assert events.of_type("said")[-1]["text"] == PAIN_TEXT


def hurt_index_at(seconds: float) -> int:
    t = 0.0
    for i, cue in enumerate(TIMELINE.cues):
        if t + cue.seconds > seconds:
            return i
        t += cue.seconds
    raise AssertionError


def test_pain_runs_triage_over_the_same_inputs_and_skips_the_exercise():
    clock = VirtualClock()
    pain_at = 200.0
    hurt = TIMELINE.cues[hurt_index_at(pain_at)].exercise_id
    keys = ScriptedKeys(clock, [(pain_at, "pain"), (pain_at + 4.0, "yes")])
    calls: list[tuple] = []

    def on_pain(dialog, report: PainReport) -> TriageResult:
        dialog.log("triage-question", id="A1")
        answer = dialog.ask("Is the pain sharp?", "yesno", 10.0)
        dialog.log("triage-answer", id="A1", answer=answer.command if answer else None)
        nothing = dialog.ask("Rate your pain.", "number", 5.0)
        dialog.say("Let's skip that one.")
        calls.append((report, answer, nothing))
        return TriageResult("c", "skip-exercise")

    runner, _, events = make_runner(clock, keys=keys, on_pain=on_pain)
    result = runner.run()
    assert (result.reason, result.exit_code) == ("completed", 0)
    report, answer, nothing = calls[0]
    assert report.trigger == "keyboard" and report.exercise_id == hurt
    assert answer.command == "yes" and nothing is None
    assert keys.contexts[:3] == ["session", "yesno", "number"] and keys.contexts[-1] == "session"
    assert [e["type"] for e in events.events if e["type"].startswith("triage")] == ["triage-question", "triage-answer"]
    later = [e for e in events.of_type("cue-started") if e["t"] > pain_at]
    assert later and hurt not in {e["exercise_id"] for e in later}


@pytest.mark.parametrize("action, reason", [("end", "triage"), ("end-today", "triage-end-today")])
def test_triage_outcomes_that_end_the_session(action, reason):
    clock = VirtualClock()
    runner, _, _ = make_runner(clock, keys=ScriptedKeys(clock, [(20.0, "pain")]),
                               on_pain=lambda dialog, report: TriageResult("a", action))
    assert runner.run().exit_code == 10 and runner.result.reason == reason


def test_a_failing_triage_still_leaves_the_person_safe():
    clock = VirtualClock()

    def broken(dialog, report):
        raise RuntimeError("no questions")

    runner, _, events = make_runner(clock, keys=ScriptedKeys(clock, [(20.0, "pain")]), on_pain=broken)
    result = runner.run()
    assert result.exit_code == 10
    assert events.of_type("triage-error") and events.of_type("said")[-1]["text"] == PAIN_TEXT


def test_stop_spoken_into_a_wav_microphone_is_decided_on_the_audio_timeline():
    def one_run():
        clock = VirtualClock()
        listener = ScriptedListener([(12.0, "stop")])
        sink = RecordingSink(clock)
        runner, _, events = make_runner(clock, sink=sink, speaker=SilentSpeaker(),
                                        source=SilenceSource(clock), listener=listener)
        runner.run()
        return events.events, listener, sink

    first, listener, sink = one_run()
    second, _, _ = one_run()
    assert first == second                                # deterministic
    cancelled = next(e for e in first if e["type"] == "audio-cancelled")
    assert 12.0 <= cancelled["t"] <= 12.0 + DEFAULT_BLOCK_SECONDS + 1e-9
    heard = next(e for e in first if e["type"] == "command-heard")
    assert heard["audio_end"] == 12.0 and heard["source"] == "voice"
    assert True in listener.fed_speaking and False in listener.fed_speaking
    assert listener.playback[0][0] == TIMELINE.cues[0].text


def test_a_paused_session_ends_after_the_idle_timeout():
    clock = VirtualClock()
    runner, _, events = make_runner(clock, keys=ScriptedKeys(clock, [(10.0, "pause")]),
                                    idle_timeout_seconds=60.0)
    result = runner.run()
    assert (result.reason, result.exit_code) == ("idle-timeout", 0)
    ended = events.of_type("session-ended")[0]
    assert 70.0 <= ended["t"] <= 70.0 + 3 * DEFAULT_BLOCK_SECONDS + 5   # plus the spoken notice
    assert events.of_type("said")[-1]["text"] == IDLE_TEXT


def test_pause_and_resume_continue_where_it_was():
    clock = VirtualClock()
    runner, _, events = make_runner(clock, keys=ScriptedKeys(clock, [(10.0, "pause"), (40.0, "pause")]))
    assert runner.run().reason == "completed"
    end = events.of_type("session-ended")[0]["t"]
    # 30 s paused; a spoken cue cut by the pause is said again from its start (event times are
    # rounded to 1 ms, and the session ends before its closing words have played out)
    assert TIMELINE.total_seconds + 30 - 1e-3 <= end <= TIMELINE.total_seconds + 30 + 6


def test_ctrl_c_writes_the_end_of_the_session():
    class Interrupting(ScriptedKeys):
        def poll(self):
            if self.clock.now() > 5:
                raise KeyboardInterrupt
            return []

    clock = VirtualClock()
    runner, _, events = make_runner(clock, keys=Interrupting(clock, []))
    with pytest.raises(KeyboardInterrupt):
        runner.run()
    assert events.events[-1]["type"] == "session-ended" and events.events[-1]["reason"] == "interrupted"


def test_opening_lines_are_spoken_before_the_routine():
    runner, _, events = make_runner(opening_lines=("This coach is a self-care aid.",))
    runner.run()
    said = events.of_type("said")[0]
    first_cue = events.of_type("cue-started")[0]
    assert said["text"] == "This coach is a self-care aid." and first_cue["t"] > said["t"]


# ---- inputs -----------------------------------------------------------------------

def test_keys_mean_commands_in_each_context():
    assert key_to_heard("n", "session").command == "next"
    assert key_to_heard("n", "yesno").command == "no"
    assert key_to_heard(" ", "session").command == "pause"
    assert key_to_heard("!", "number").command == "pain"
    assert (key_to_heard("7", "number").command, key_to_heard("7", "number").value) == ("number", 7)
    assert key_to_heard("x", "number").value == 10
    assert key_to_heard("?", "yesno").command == "not_sure"
    assert key_to_heard("+", "session").command == "faster" and key_to_heard("-", "session").command == "slower"
    assert key_to_heard("q", "yesno") is None and key_to_heard("7", "yesno") is None
    # a digit during a routine is a pain rating, so a rise can start the safety questions
    assert (key_to_heard("7", "session").command, key_to_heard("7", "session").value) == ("number", 7)
    assert key_to_heard("x", "session").value == 10
    assert key_to_heard("S", "session").source == "keyboard"


def test_key_input_reads_a_terminal_and_restores_it():
    import pty
    import termios

    controller, terminal = pty.openpty()
    stream = os.fdopen(terminal, "r")
    before = termios.tcgetattr(terminal)
    clock = VirtualClock()
    with KeyInput(clock, stream) as keys:
        assert termios.tcgetattr(terminal)[3] != before[3]          # cbreak: no line buffering
        os.write(controller, b"n !")
        heard = []
        for _ in range(50):
            heard += keys.poll()
            if len(heard) == 3:
                break
        assert [h.command for h in heard] == ["next", "pause", "pain"]
        keys.set_context("yesno")
        os.write(controller, b"y")
        got = []
        for _ in range(50):
            got += keys.poll()
            if got:
                break
        assert got[0].command == "yes"
    assert termios.tcgetattr(terminal) == before
    stream.close()
    os.close(controller)


def test_key_input_refuses_a_non_terminal(tmp_path):
    from coach.errors import UsageError

    with open(tmp_path / "f", "w+") as f, pytest.raises(UsageError):
        KeyInput(VirtualClock(), f)


def write_wav(path, samples: np.ndarray, rate_hz: int, channels: int) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate_hz)
        wav.writeframes(samples.astype("<i2").tobytes())


def test_wav_source_is_mono_16k_on_the_virtual_clock_then_silence(tmp_path):
    rate = 8000
    left = (np.sin(np.arange(rate) * 2 * np.pi * 200 / rate) * 10000).astype(np.int16)
    stereo = np.stack([left, left], axis=1).reshape(-1)
    write_wav(tmp_path / "in.wav", stereo, rate, 2)
    clock = VirtualClock()
    source = WavSource(tmp_path / "in.wav", clock)
    assert len(source.audio) == 16000                        # one second at 16 kHz
    assert np.abs(source.audio).max() > 9000
    chunks = [source.read(0.25) for _ in range(6)]
    assert clock.now() == pytest.approx(1.5)
    assert [c.start_seconds for c in chunks] == pytest.approx([0, 0.25, 0.5, 0.75, 1.0, 1.25])
    assert all(len(c.pcm) == 4000 * 2 for c in chunks)
    assert not any(np.frombuffer(chunks[-1].pcm, dtype="<i2")) and source.finished


def test_wav_source_refuses_what_it_cannot_read(tmp_path):
    from coach.errors import UsageError

    (tmp_path / "bad.wav").write_bytes(b"not a wav")
    with pytest.raises(UsageError):
        WavSource(tmp_path / "bad.wav", VirtualClock())


def test_null_sink_plays_for_the_length_of_its_sound():
    clock = VirtualClock()
    sink = NullSink(clock)
    sink.play(bytes(16000 * 2))
    clock.advance(0.99)
    assert sink.is_playing()
    clock.advance(0.02)
    assert not sink.is_playing()
    sink.play_seconds(5)
    sink.cancel()
    assert not sink.is_playing()


# ---- view -------------------------------------------------------------------------

def test_plain_view_prints_timestamped_lines():
    out = io.StringIO()
    runner, _, _ = make_runner(view=View(out, live=False))
    runner.run()
    lines = out.getvalue().splitlines()
    assert lines[1] == "[    0.0s] say: Welcome."
    assert any(line.endswith("pause 30.0s (rest)") for line in lines)
    assert "\r" not in out.getvalue()


def test_live_view_shows_where_the_person_is():
    out = io.StringIO()
    view = View(out, live=True)
    view.session_started(TIMELINE)
    hold = next(c for c in TIMELINE.cues if c.purpose == "hold" and c.side == "right")
    view.cue_started(0, hold, 12.0, 250.0)
    view.heard(Heard("next", source="keyboard"), 13.0)
    view.level(-42.0)
    status = view.status_text(17.4, 250.0)
    assert "Knee to chest" in status and "right" in status and "rep 1/2" in status
    assert "hold 17s" in status and "item 2/4" in status and "4:10 left" in status
    assert "heard: next" in status and "mic -42 dB" in status
    view.tick(13.0, 17.4, 250.0)
    assert out.getvalue().endswith("\r\033[K" + status)


def test_wav_source_skips_audio_that_went_by_while_nobody_listened(tmp_path):
    samples = np.arange(32000, dtype=np.int64) % 30000
    write_wav(tmp_path / "ramp.wav", samples.astype(np.int16), 16000, 1)
    clock = VirtualClock()
    source = WavSource(tmp_path / "ramp.wav", clock)
    source.read(0.5)
    clock.sleep(0.25)                                   # e.g. a rest timed on the clock
    chunk = source.read(0.1)
    assert chunk.start_seconds == pytest.approx(0.75)
    assert np.frombuffer(chunk.pcm, dtype="<i2")[0] == 12000
    assert clock.now() == pytest.approx(0.85)


def test_keyboard_closing_while_paused_ends_the_session():
    class Closing(ScriptedKeys):
        ended = False

        def poll(self):
            out = super().poll()
            if self.clock.now() >= 20:
                self.ended = True
            return out

    clock = VirtualClock()
    runner, _, events = make_runner(clock, keys=Closing(clock, [(10.0, "pause")]))
    assert runner.run().reason == "input-ended"
    assert events.of_type("input-ended")[0]["source"] == "keyboard"


def test_a_lost_microphone_falls_back_to_keys_without_losing_the_session():
    class Vanishing(SilenceSource):
        def read(self, block_seconds):
            return None if self.clock.now() >= 5 else super().read(block_seconds)

    clock = VirtualClock()
    keys = ScriptedKeys(clock, [(40.0, "stop")])
    runner, _, events = make_runner(clock, source=Vanishing(clock), listener=ScriptedListener(),
                                    fallback_keys=lambda: keys)
    result = runner.run()
    assert result.reason == "stopped"
    assert events.of_type("input-ended")[0]["source"] == "microphone"
    assert any("keyboard" in e["text"] for e in events.of_type("said"))


def test_a_lost_microphone_with_no_keys_goes_on_with_the_clock():
    class Vanishing(SilenceSource):
        def read(self, block_seconds):
            return None if self.clock.now() >= 5 else super().read(block_seconds)

    clock = VirtualClock()
    runner, _, events = make_runner(clock, source=Vanishing(clock), listener=ScriptedListener())
    assert runner.run().reason == "completed"


def test_live_countdown_covers_the_whole_hold():
    out = io.StringIO()
    clock = VirtualClock()
    runner, _, _ = make_runner(clock, view=View(out, live=True), keys=ScriptedKeys(clock, []))
    runner.run()
    hold_start = next(i for i, c in enumerate(TIMELINE.cues) if c.purpose == "hold-start" and c.side == "left")
    assert runner._group_rest[hold_start] == pytest.approx(20 - TIMELINE.cues[hold_start].seconds)
    assert "hold 19s" in out.getvalue() or "hold 20s" in out.getvalue()


def dialog_session(script, conversation):
    """Run a session whose pain hook is ``conversation(dialog) -> list``; return what it got."""
    clock = VirtualClock()
    sink = RecordingSink(clock)
    got: list = []

    def on_pain(dialog, report):
        got.extend(conversation(dialog))
        return TriageResult("c", "end")

    runner, _, events = make_runner(clock, sink=sink, speaker=SilentSpeaker(seconds_per_char=0.1),
                                    keys=ScriptedKeys(clock, script), on_pain=on_pain)
    runner.run()
    return got, events, sink


def test_words_over_a_statement_answer_nothing_but_words_over_a_question_do():
    # pain at 10; the statement takes 4.4 s (44 chars); the question is asked after it
    statement = "Please answer the next question yes or no."
    question = "Do you have any chest pain right now, today?"
    got, events, sink = dialog_session(
        [(10.0, "pain"), (11.0, "yes"), (16.0, "no")],
        lambda d: [d.say(statement), d.ask(question, "yesno", 10.0)])
    assert got[1].command == "no"              # "yes" over the statement was not taken as the answer
    cancels = [r.at_seconds for r in sink.records if r.action == "cancel"]
    assert any(16.0 <= t <= 16.0 + DEFAULT_BLOCK_SECONDS + 1e-9 for t in cancels)   # answering cut the question


def test_stop_over_a_statement_silences_the_rest_until_the_next_question():
    got, events, _ = dialog_session(
        [(10.0, "pain"), (11.0, "stop")],
        lambda d: [d.say("First statement is long enough."), d.say("Second statement."),
                   d.ask("A question?", "yesno", 5.0), d.say("Signs to watch for.")])
    assert got[2].command == "stop"
    said = {e["text"]: e for e in events.of_type("said")}
    assert said["Second statement."].get("spoken") is False
    assert "spoken" not in said["Signs to watch for."]          # spoken again after the stop was taken


def test_dialog_wait_rests_on_the_clock_but_hears_stop():
    got, _, _ = dialog_session([(10.0, "pain"), (30.0, "next"), (40.0, "stop")],
                               lambda d: [d.wait(60.0), d.wait(5.0)])
    assert got[0].command == "stop" and got[1] is None


# -- which inputs a session opens (coach.cli.inputs) -------------------------------------

class _FakeKeys:
    def __init__(self, clock):
        self.clock = clock

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def _live_settings(tmp_path, **fields):
    from coach.cli.settings import Settings

    fields.setdefault("input", "keyboard")
    fields.setdefault("input_auto", True)
    return Settings(content_dir=tmp_path, data_dir=tmp_path, cache_dir=tmp_path, clock="real", **fields)


def test_no_microphone_at_start_falls_back_to_keys_and_says_so(tmp_path, monkeypatch):
    from contextlib import ExitStack

    import coach.listen.keyboard
    import coach.audio.microphone
    from coach.cli.adapters import Adapters
    from coach.cli.inputs import NO_MIC_KEYS_TEXT, NO_MIC_TEXT, open_inputs
    from coach.errors import AudioDeviceError

    def no_device(clock):
        raise AudioDeviceError("no-device", "no audio input device found")

    monkeypatch.setattr(coach.audio.microphone, "DeviceSource", no_device)
    monkeypatch.setattr(coach.listen.keyboard, "KeyInput", _FakeKeys)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    a = Adapters(VirtualClock())
    with ExitStack() as stack:
        open_inputs(_live_settings(tmp_path), a, stack)
    assert isinstance(a.keys, _FakeKeys) and a.listener is None and a.source is None
    assert a.spoken == [NO_MIC_KEYS_TEXT] and "no microphone" in a.notes[0]
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)          # no terminal either
    a = Adapters(VirtualClock())
    with ExitStack() as stack:
        open_inputs(_live_settings(tmp_path, input="none"), a, stack)
    assert a.keys is None and a.spoken == [NO_MIC_TEXT]


def test_a_microphone_means_voice_with_the_engine_announced_and_keys_too(tmp_path, monkeypatch):
    from contextlib import ExitStack

    import coach.listen.keyboard
    import coach.audio.microphone
    import coach.listen.listener
    from coach.cli.adapters import Adapters
    from coach.cli.inputs import open_inputs

    class FakeMic:
        def __init__(self, clock):
            self.closed = False

        def close(self):
            self.closed = True

    listener = ScriptedListener()
    listener.engine_sentence = "Using the test engine."
    monkeypatch.setattr(coach.audio.microphone, "DeviceSource", FakeMic)
    monkeypatch.setattr(coach.listen.listener, "open_listener", lambda settings, clock, **_: listener)
    monkeypatch.setattr(coach.listen.keyboard, "KeyInput", _FakeKeys)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    a = Adapters(VirtualClock())
    with ExitStack() as stack:
        open_inputs(_live_settings(tmp_path), a, stack)
        assert isinstance(a.source, FakeMic) and a.listener is listener and isinstance(a.keys, _FakeKeys)
    assert a.source.closed
    assert len(a.spoken) == 1 and a.spoken[0].startswith("Listening with ")
    assert any(note.startswith("listening with") and "Using the test engine." in note for note in a.notes)
    # --input keyboard (not auto): no microphone is tried
    a = Adapters(VirtualClock())
    with ExitStack() as stack:
        open_inputs(_live_settings(tmp_path, input_auto=False), a, stack)
    assert a.source is None and a.listener is None and isinstance(a.keys, _FakeKeys)


def test_a_lost_microphone_with_no_keys_is_said_and_printed():
    class Vanishing(SilenceSource):
        def read(self, block_seconds):
            return None if self.clock.now() >= 5 else super().read(block_seconds)

    clock = VirtualClock()
    runner, _, events = make_runner(clock, source=Vanishing(clock), listener=ScriptedListener())
    runner.run()
    lost_at = events.of_type("input-ended")[0]["t"]
    notices = [e for e in events.of_type("said") if e["purpose"] == "notice" and e["t"] >= lost_at]
    assert notices and "microphone" in notices[0]["text"]


def test_a_lost_speaker_is_logged_and_the_session_goes_on_as_text(capsys):
    class Dying(RecordingSink):
        @property
        def lost(self):
            return self.clock.now() >= 20

    clock = VirtualClock()
    sink = Dying(clock)
    runner, _, events = make_runner(clock, sink=sink, speaker=SilentSpeaker())
    result = runner.run()
    assert result.reason == "completed"
    (lost,) = events.of_type("output-lost")
    assert lost["t"] >= 20
    assert all(r.at_seconds < 20.5 for r in sink.records if r.action == "play")  # nothing sent to the dead speaker
    assert "speaker was lost" in capsys.readouterr().err
    assert len(events.of_type("cue-started")) == len(TIMELINE.cues)
