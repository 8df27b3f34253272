"""The echo canceller and the guard's timing, with the tone engine of test_listener:
a wrong echo estimate must never put the coach's voice into the microphone, a cut
playback stops counting at the cut, and the silence at the end of rendered speech
is not speaking."""

from __future__ import annotations

import numpy as np

from coach.audio import AudioChunk
from coach.listen.echo_canceller import RoomConfig
from coach.listen.listener import GuardConfig, Listener
from tests.unit.test_listener import (
    PARSER,
    ToneEngine,
    coach_echo,
    listen,
    mic,
    pcm,
    speechlike,
    tone,
)

RATE = 16_000


def test_a_wrong_echo_estimate_never_adds_the_coach_voice_to_a_silent_microphone() -> None:
    cue = speechlike(3.0, seed=5, hz=440)          # the coach says "stop ..."; no echo comes back
    engine = ToneEngine()
    listener = Listener(engine, PARSER)
    listener.note_playback("Stop if you feel any sharp pain.", pcm(cue), 0.5)
    listener.reference.delay_samples, listener.reference.gain = 0, 0.2    # as a word could set it
    heard = listen(listener, mic(4.0, []), speaking=lambda t: 0.5 <= t < 3.5)
    assert heard == [] and engine.calls == []        # nothing sounded, so nothing was decoded


def test_one_word_that_looks_like_the_coach_sets_no_echo_path() -> None:
    # a 0.3 s sound that matches the coach's voice at one lag (a chance likeness):
    # one window is not enough to believe an echo path
    cue = speechlike(3.0, seed=5, hz=440)
    burst = 0.2 * cue[round(0.9 * RATE):round(1.2 * RATE)]
    listener = Listener(ToneEngine(), PARSER)
    listener.note_playback("Stop if you feel any sharp pain.", pcm(cue), 0.5)
    gains = []
    samples = mic(3.5, [(1.4, burst)])
    data = pcm(samples)

    for offset in range(0, len(data), 3200):
        listener.feed(AudioChunk(data[offset:offset + 3200], RATE, offset / 2 / RATE), True)
        gains.append(listener.reference.delay_samples)
    assert all(g is None for g in gains)


def test_a_real_echo_is_still_found_and_removed() -> None:
    cue = speechlike(3.0, seed=6)
    samples = mic(5.0, [coach_echo(cue, 0.5), (2.0, tone(440, 0.4, -18.0))])
    listener = Listener(ToneEngine(), PARSER)
    listener.note_playback("Now lie on your back and rest.", pcm(cue), 0.5)
    heard = listen(listener, samples, lambda t: 0.5 <= t < 3.5)
    assert [h.command for h in heard] == ["stop"]


def test_after_a_cancel_the_rest_of_the_cue_is_not_guarded() -> None:
    # the coach's 3 s cue from 0.5 s is cut at 1.0 s; "next" at 1.6 s is an answer
    cue = speechlike(3.0, seed=7)
    samples = mic(5.0, [coach_echo(cue[:round(0.5 * RATE)], 0.5), (1.6, tone(660, 0.3))])
    listener = Listener(ToneEngine(), PARSER)
    listener.note_playback("Now lie on your back and rest.", pcm(cue), 0.5)
    listener.note_cancel(1.0)
    heard = listen(listener, samples, lambda t: 0.5 <= t < 1.0)
    assert [h.command for h in heard] == ["next"]
    assert listener.reference.playing_until(round(1.6 * RATE)) == round(1.0 * RATE)


def test_a_quick_reply_after_the_voice_ends_counts_despite_trailing_silence() -> None:
    # 1.0 s of voice from 0.5 s then 1.5 s of rendered silence; the sink is busy
    # until 3.0 s, but the coach stopped speaking at 1.5 s: "next" at 2.0 s counts
    voice = speechlike(1.0, seed=8)
    rendered = np.concatenate([voice, np.zeros(round(1.5 * RATE))])
    samples = mic(4.5, [coach_echo(voice, 0.5), (2.0, tone(660, 0.3))])
    listener = Listener(ToneEngine(), PARSER)
    listener.note_playback("Hold it there.", pcm(rendered), 0.5)
    heard = listen(listener, samples, lambda t: 0.5 <= t < 3.0)
    assert [h.command for h in heard] == ["next"]
    assert 1.8 <= heard[0].audio_start_seconds <= 2.05


def test_a_reply_within_the_margin_after_the_voice_is_still_guarded() -> None:
    voice = speechlike(1.0, seed=8)
    rendered = np.concatenate([voice, np.zeros(round(1.5 * RATE))])
    samples = mic(4.5, [coach_echo(voice, 0.5), (1.6, tone(660, 0.3))])
    listener = Listener(ToneEngine(), PARSER)
    listener.note_playback("Hold it there.", pcm(rendered), 0.5)
    assert listen(listener, samples, lambda t: 0.5 <= t < 3.0) == []


def test_the_runner_tells_the_listener_where_audio_was_cancelled() -> None:
    import io
    from dataclasses import dataclass, field

    from coach.audio.filesource import SilenceSource
    from coach.clock import VirtualClock
    from coach.session.events import EventLog
    from coach.session.runner import Runner
    from coach.script.engine import build_timeline
    from coach.testing.fakes import (
        RecordingSink,
        ScriptedListener,
        SilentSpeaker,
        sample_library,
    )
    from coach.session.view import View

    @dataclass
    class CancelNoting(ScriptedListener):
        cancels: list[float] = field(default_factory=list)

        def note_cancel(self, at_seconds: float) -> None:
            self.cancels.append(at_seconds)

    library = sample_library()
    clock = VirtualClock()
    sink = RecordingSink(clock)
    listener = CancelNoting([(30.0, "stop")])
    runner = Runner(build_timeline(library.routines["gentle"], library), clock,
                    events=EventLog(None, clock, session_id="test"), sink=sink,
                    speaker=SilentSpeaker(), source=SilenceSource(clock), listener=listener,
                    view=View(io.StringIO(), live=False))
    runner.run()
    cancels = [r.at_seconds for r in sink.records if r.action == "cancel"]
    assert cancels and listener.cancels == cancels


def test_echo_db_without_a_microphone_file_is_a_usage_error(tmp_path, monkeypatch, capsys) -> None:
    from coach.cli import main

    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notice-shown").write_text("shown\n")
    code = main(["run", "gentle-floor", "--echo-db", "-6", "--clock", "virtual",
                 "--events", str(tmp_path / "e.jsonl"), "--speaker", str(tmp_path / "o.wav")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--echo-db" in err[0] and "--mic" in err[0]


def test_a_room_without_an_echo_or_a_negative_room_is_a_usage_error(tmp_path, monkeypatch, capsys) -> None:
    from coach.cli import main

    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "notice-shown").write_text("shown\n")
    (tmp_path / "in.wav").write_bytes(b"")
    common = ["run", "gentle-floor", "--clock", "virtual", "--mic", str(tmp_path / "in.wav"),
              "--events", str(tmp_path / "e.jsonl"), "--speaker", str(tmp_path / "o.wav")]
    for extra, words in ((["--echo-room", "0.4"], ("--echo-room", "--echo-db")),
                         (["--echo-db", "-6", "--echo-room", "-1"], ("--echo-room", "-1"))):
        code = main(common + extra)
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and all(w in err[0] for w in words), err


def test_a_long_live_echo_path_is_found_and_its_stop_rejected() -> None:
    # a live speaker → microphone path with output and input buffers: 350 ms, -8 dB
    cue = speechlike(2.0, seed=5, hz=440)          # the coach says "stop ..."
    samples = mic(4.0, [coach_echo(cue, 0.5, gain_db=-8.0, delay_ms=350.0)])
    listener = Listener(ToneEngine(), PARSER)
    listener.note_playback("Stop if you feel any sharp pain.", pcm(cue), 0.5)
    delays = []
    data = pcm(samples)
    for offset in range(0, len(data), 3200):
        heard = listener.feed(AudioChunk(data[offset:offset + 3200], RATE, offset / 2 / RATE),
                              0.5 <= offset / 2 / RATE < 2.5)
        assert heard == []
        delays.append(listener.reference.delay_samples)
    assert listener.flush() == []
    assert round(0.350 * RATE) in delays


class Echoing(ToneEngine):
    """Hears "stop" in anything; the guard alone must decide."""

    def transcribe(self, pcm: bytes, context: str, urgent_only: bool = False, over_coach: bool = False):
        from coach.listen.asr import Hypothesis
        self.calls.append((context, urgent_only))
        return Hypothesis("stop", self.confidence, True, self.name)


def test_a_word_partly_like_the_coach_voice_needs_a_sure_engine_while_speaking() -> None:
    # the coach's voice comes back along a path the canceller does not follow, under
    # another sound about twice as loud: a fifth of the segment is still the coach,
    # so a middling "stop" is not enough, a sure one is
    cue = speechlike(2.0, seed=9)
    samples = mic(4.0, [coach_echo(cue, 0.5), (0.5, speechlike(2.1, seed=10))])
    heard = {}
    for confidence in (0.85, 0.97):
        listener = Listener(Echoing(confidence=confidence, strict_min=0.7), PARSER,
                            guard=GuardConfig(min_correlation=1.1))
        listener.note_playback("Stand tall next to a wall.", pcm(cue), 0.5)
        explained: list[float] = []
        listener.observer = lambda s, h, d: explained.append(listener.explained(s))  # noqa: B023
        heard[confidence] = listen(listener, samples, lambda t: 0.5 <= t < 2.5)
        assert explained and all(0.1 <= e < 0.5 for e in explained), explained
    assert heard[0.85] == [] and [h.command for h in heard[0.97]] == ["stop"]


def test_an_echo_path_that_drifted_a_little_over_a_pause_is_taken_up_at_once() -> None:
    """Two cues 1 s apart; the echo of the second comes 2.5 ms later than the first's
    (clocks drift): the canceller reuses the known path in its first window instead
    of confirming a new one over three, and so cancels the start of the cue."""
    first, second = speechlike(2.0, seed=8), speechlike(2.0, seed=9)
    samples = mic(6.0, [coach_echo(first, 0.5, delay_ms=40.0), coach_echo(second, 3.5, delay_ms=42.5)])
    listener = Listener(ToneEngine(), PARSER)
    listener.note_playback("first cue", pcm(first), 0.5)
    listener.note_playback("second cue", pcm(second), 3.5)
    data, found_at = pcm(samples), None
    for offset in range(0, len(data), 3200):
        start = offset / 2 / RATE
        listener.feed(AudioChunk(data[offset:offset + 3200], RATE, start), True)
        if start >= 3.5 and found_at is None and listener.reference.delay_samples == round(0.0425 * RATE):
            found_at = start
    assert found_at is not None and found_at < 3.5 + 2 * GuardConfig().estimate_every_seconds, found_at


def test_what_the_canceller_leaves_of_the_coach_voice_is_still_the_coach() -> None:
    """A live path adds a little distortion no canceller follows: after echo removal
    the residue no longer correlates with what was played, but it is 20 dB under
    what came in, so a sure "stop" in it is still the coach's own voice."""
    gap = np.zeros(round(0.8 * RATE))
    cue = np.concatenate([part for seed in range(11, 16) for part in (speechlike(0.5, seed=seed), gap)])
    start, echo = coach_echo(cue, 0.5)
    distortion = echo * np.random.default_rng(12).standard_normal(len(echo)) * 0.1
    samples = mic(8.0, [(start, echo + distortion)])
    heard = {}
    for removed_db in (GuardConfig().echo_removed_db, -100.0):
        listener = Listener(Echoing(confidence=0.97, strict_min=0.7), PARSER,
                            guard=GuardConfig(echo_removed_db=removed_db))
        listener.note_playback("Stand tall next to a wall.", pcm(cue), 0.5)
        heard[removed_db] = listen(listener, samples, lambda t: 0.5 <= t < 7.0)
    assert heard[GuardConfig().echo_removed_db] == []
    assert {h.command for h in heard[-100.0]} == {"stop"}, "the residue alone did not look like a person"


def second_cue_start_removed_db(guard: GuardConfig, second_at: float, second_delay_ms: float,
                                 piece_seconds: float) -> tuple[float, bool]:
    """Two cues, the second ``second_at`` seconds in and coming back with its own delay
    (the first: 40 ms): how far the second cue's first ``piece_seconds`` (from 50 ms in)
    were removed, and whether the estimate was dropped before it (a pause)."""
    first, second = speechlike(2.0, seed=8), speechlike(1.0, seed=9)
    samples = mic(second_at + 2.0, [coach_echo(first, 0.5, delay_ms=40.0),
                                    coach_echo(second, second_at, delay_ms=second_delay_ms)])
    listener = Listener(ToneEngine(), PARSER, guard=guard)
    listener.note_playback("first cue", pcm(first), 0.5)
    listener.note_playback("second cue", pcm(second), second_at)
    heard = np.round(samples)
    out, dropped = [], False
    for at in range(0, len(heard), 480):
        out.append(listener._cancel(heard[at:at + 480], at))
        dropped = dropped or (2.6 * RATE < at < second_at * RATE and listener.reference.delay_samples is None)
    out = np.concatenate(out)
    lo, hi = round((second_at + 0.05) * RATE), round((second_at + 0.05 + piece_seconds) * RATE)
    return 10 * np.log10(np.sum(out[lo:hi] ** 2) / np.sum(samples[lo:hi] ** 2)), dropped


def test_each_playback_is_cancelled_from_its_first_frame_though_its_path_moved_a_few_samples() -> None:
    """Live, each playback reaches the microphone a few samples later or sooner than
    the one before (the device clocks drift). The canceller follows such small
    jumps at once, instead of leaving the start of every cue to the estimator."""
    removed = {follow: second_cue_start_removed_db(GuardConfig(follow_seconds=follow), 3.0, 40.375, 0.2)[0]
               for follow in (GuardConfig().follow_seconds, 0.0)}
    assert removed[GuardConfig().follow_seconds] < -20.0, removed
    assert removed[0.0] > -10.0, removed


def test_the_first_cue_after_a_long_pause_is_cancelled_from_its_start() -> None:
    """After a pause the estimate is dropped (only the coach's voice may confirm a
    path), but the last path still removes the next cue from its first frame: live,
    the first cue after a pause ("Time for a short break") was heard as "stop"."""
    first_stage_alone = GuardConfig(room=RoomConfig(seconds=0.0))
    removed_db, dropped = second_cue_start_removed_db(first_stage_alone, 4.0, 40.0, 0.15)
    assert dropped, "the pause did not drop the estimate: the test shows nothing"
    assert removed_db < -20.0, removed_db


def test_after_a_pause_the_last_path_is_searched_as_far_as_the_next_cue_may_have_moved() -> None:
    """Live, the first cue after a pause came 18 samples (1.1 ms) later than the
    last path: searched only as far as the canceller follows within a cue (1 ms),
    its start lost a few dB until the new path was confirmed."""
    removed = {}
    for stand_in in (GuardConfig().stand_in_seconds, GuardConfig().follow_seconds):
        first_stage_alone = GuardConfig(stand_in_seconds=stand_in, room=RoomConfig(seconds=0.0))
        removed[stand_in], dropped = second_cue_start_removed_db(first_stage_alone, 4.0, 41.125, 0.15)
        assert dropped
    assert removed[GuardConfig().stand_in_seconds] < -20.0, removed
    assert removed[GuardConfig().follow_seconds] > -10.0, removed
