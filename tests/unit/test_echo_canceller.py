"""The room stage of echo removal: it learns what a room adds to the coach's voice, is
never louder than what it was given, learns nothing from silence or from a person
talking over the coach, and gives the same result for any 10 ms-aligned chunking."""

from __future__ import annotations

import numpy as np

from coach.audio.echo import room_response
from coach.listen.echo_canceller import BLOCK, RoomCanceller, RoomConfig
from coach.listen.listener import GuardConfig, Listener
from tests.unit.test_listener import PARSER, ToneEngine, listen, pcm, tone

RATE = 16_000
DELAY = 640         # 40 ms from loudspeaker to microphone


def voice(seconds: float, seed: int = 3) -> np.ndarray:
    """Coloured noise in syllables: like speech, it is neither white nor steady."""
    rng = np.random.default_rng(seed)
    n = round(seconds * RATE)
    coloured = np.convolve(rng.standard_normal(n), np.hanning(12), "same") * 900
    syllables = (np.sin(2 * np.pi * 3.3 * np.arange(n) / RATE) > -0.3).astype(float)
    return coloured * syllables


def through_room(played: np.ndarray, rt60: float, gain: float = 0.5, seconds: float | None = None,
                 seed: int = 0) -> np.ndarray:
    n = len(played) if seconds is None else round(seconds * RATE)
    wet = np.convolve(played, room_response(rt60, RATE, seed=seed))[: n - DELAY] * gain
    return np.concatenate([np.zeros(DELAY), wet, np.zeros(max(0, n - DELAY - len(wet)))])[:n]


def reference_of(played: np.ndarray):
    def played_at(start: int, count: int) -> np.ndarray:
        out = np.zeros(count)
        lo, hi = max(start, 0), min(start + count, len(played))
        if hi > lo:
            out[lo - start:hi - start] = played[lo:hi]
        return out
    return played_at


def run(canceller: RoomCanceller, mic: np.ndarray, first: np.ndarray | None = None, chunk: int = 480,
        start: int = 0) -> np.ndarray:
    first = mic if first is None else first
    return np.concatenate([canceller.cancel(mic[i:i + chunk], first[i:i + chunk], i)
                           for i in range(start, len(mic), chunk)])


def removed_db(before: np.ndarray, after: np.ndarray) -> float:
    return 10 * np.log10(float(before @ before) / max(float(after @ after), 1.0))


def test_it_learns_a_room_the_single_path_cannot_remove() -> None:
    played = voice(8.0)
    mic = through_room(played, 0.4)
    canceller = RoomCanceller(reference_of(played), lambda: DELAY)
    out = run(canceller, mic)
    last = slice(6 * RATE, 8 * RATE)
    assert removed_db(mic[last], out[last]) > 20
    assert canceller.active and canceller.learned_db > 15
    # the room off (no taps): nothing removed, nothing learnt
    still = RoomCanceller(reference_of(played), lambda: DELAY, RoomConfig(seconds=0.0))
    assert np.array_equal(run(still, mic), mic) and not still.active


def test_it_waits_for_the_direct_path_and_then_starts_just_before_it() -> None:
    played = voice(3.0)
    mic = through_room(played, 0.4)
    found: list[int | None] = [None]
    canceller = RoomCanceller(reference_of(played), lambda: found[0])
    early = run(canceller, mic[:RATE])
    assert np.array_equal(early, mic[:RATE]) and not canceller.active
    found[0] = DELAY
    run(canceller, mic[RATE:2 * RATE])          # (chunks carry their own sample index)
    assert canceller.active


def test_it_is_never_louder_than_the_microphone_or_the_first_stage() -> None:
    played = voice(4.0)
    rng = np.random.default_rng(9)
    mic = through_room(played, 0.4) + rng.standard_normal(4 * RATE) * 300
    first = mic * 0.7       # a first stage that already took some out
    out = run(RoomCanceller(reference_of(played), lambda: DELAY), mic, first)
    frames = np.arange(0, len(mic), BLOCK)
    energy = lambda x: np.add.reduceat(x ** 2, frames)      # noqa: E731
    assert np.all(energy(out) <= np.minimum(energy(first), energy(mic)) + 1e-6)


def test_a_person_talking_while_nothing_plays_is_left_alone_and_learnt_nothing_from() -> None:
    played = np.zeros(3 * RATE)
    mic = voice(3.0, seed=11)                     # someone speaks; the coach is silent
    canceller = RoomCanceller(reference_of(played), lambda: DELAY)
    assert np.array_equal(run(canceller, mic), mic)
    assert not np.any(canceller._weights)


def test_a_person_talking_over_the_coach_is_kept_and_the_room_is_not_unlearnt() -> None:
    played = voice(10.0)
    echo = through_room(played, 0.4)
    person = np.zeros(10 * RATE)
    word = slice(7 * RATE, round(7.6 * RATE))
    person[word] = voice(0.6, seed=12) * 2
    out = run(RoomCanceller(reference_of(played), lambda: DELAY), echo + person)
    alone = run(RoomCanceller(reference_of(played), lambda: DELAY), echo)
    # the word survives: what is left there is the person, not less
    assert removed_db(person[word], out[word]) < 1.0
    # and the room is still known after it, nearly as well as without the word
    after = slice(8 * RATE, 10 * RATE)
    assert removed_db(echo[after], alone[after]) > 15
    assert removed_db(echo[after], out[after]) > removed_db(echo[after], alone[after]) - 3.0


def test_any_chunking_on_the_10_ms_grid_gives_the_same_result() -> None:
    played = voice(3.0)
    mic = through_room(played, 0.4)
    outs = [run(RoomCanceller(reference_of(played), lambda: DELAY), mic, chunk=size) for size in (160, 480, 1600)]
    assert np.array_equal(outs[0], outs[1]) and np.array_equal(outs[0], outs[2])


def test_a_path_that_moves_far_starts_the_room_again() -> None:
    played = voice(6.0)
    delay = [DELAY]
    canceller = RoomCanceller(reference_of(played), lambda: delay[0])
    run(canceller, through_room(played, 0.4)[:3 * RATE])
    assert np.any(canceller._weights)
    delay[0] = DELAY + 8000                       # half a second later: another device
    canceller.cancel(np.zeros(BLOCK), np.zeros(BLOCK), 3 * RATE)
    assert not np.any(canceller._weights)


def test_while_the_room_is_learnt_only_a_sure_word_counts_over_the_coach() -> None:
    """Over the coach's voice in a room, a "stop" (the tone engine's 440 Hz) heard at
    0.8 confidence while the room is still being learnt is not acted on; once it is
    learnt, the same word at the same confidence is."""
    cue = voice(12.0)
    stop = tone(440, 0.4, -14.0)

    def session(at: float) -> list:
        samples = through_room(cue, 0.4, seconds=13.0)
        samples[round(at * RATE):round(at * RATE) + len(stop)] += stop
        listener = Listener(ToneEngine(confidence=0.8), PARSER, guard=GuardConfig(min_confidence=0.5))
        listener.note_playback("Lie on your back and breathe slowly.", pcm(cue), 0.0)
        return [h.command for h in listen(listener, samples, lambda t: t < 12.0)]

    assert session(1.6) == []           # the room is still being learnt
    assert session(10.0) == ["stop"]    # learnt: the same word counts


def test_a_single_path_that_jumps_a_little_keeps_what_the_filter_learnt() -> None:
    """Live, each cue reaches the microphone a millisecond or so later or sooner than
    the one before. When one path explains the echo, the filter moves with the jump
    and removes the next cue from its start; a room's path is not followed so."""
    first, second = voice(4.0, seed=4), voice(1.0, seed=5)
    shift = 18
    played = np.concatenate([first, np.zeros(RATE), second])
    echo = 0.5 * np.concatenate([np.zeros(DELAY), first, np.zeros(RATE + shift), second])[:len(played)]
    start = 5 * RATE
    window = slice(start + DELAY + shift, start + DELAY + shift + RATE // 2)
    removed = {}
    for single in (True, False):
        delay = [DELAY]
        canceller = RoomCanceller(reference_of(played), lambda: delay[0], single_path=lambda: single)  # noqa: B023
        out = run(canceller, echo[:start])
        delay[0] = DELAY + shift                  # the first stage found the new cue's path
        out = np.concatenate([out, run(canceller, echo, start=start)])
        removed[single] = removed_db(echo[window], out[window])
    assert removed[True] > 25, removed
    assert removed[False] < removed[True] - 10, removed


def test_the_listener_calls_a_path_single_only_when_no_room_surrounds_it() -> None:
    played = voice(6.0)
    single = {}
    for name, echo in (("plain", 0.5 * np.concatenate([np.zeros(DELAY), played])[:len(played)]),
                       ("room", through_room(played, 0.4))):
        listener = Listener(ToneEngine(), PARSER)
        listener.note_playback("Lie on your back and breathe slowly.", pcm(played), 0.0)
        listen(listener, echo, lambda t: True)
        assert listener.reference.known_delay_samples() is not None, name
        single[name] = listener.reference.single_path
    assert single == {"plain": True, "room": False}


def test_a_room_that_moved_is_learnt_again_and_until_then_counts_as_unlearnt() -> None:
    """The person (or the laptop) moves: the error jumps and stays up, longer than a
    word said over the coach. Before, the filter took that for a person talking for
    good: it barely learnt the new room while ``learned_db`` kept its old figure, so
    the listener's sure-word rule was off while the coach's voice came through."""
    played = voice(16.0, seed=3)
    rooms = [through_room(played, 0.4, seed=seed) for seed in (1, 2)]
    moved = 8 * RATE
    mic = np.concatenate([rooms[0][:moved], rooms[1][moved:]])
    canceller = RoomCanceller(reference_of(played), lambda: DELAY)
    learnt = run(canceller, mic[:moved])
    assert canceller.learned_db > 20
    outs, levels = [learnt], []
    for at in range(moved, len(mic), BLOCK * 10):
        outs.append(canceller.cancel(mic[at:at + BLOCK * 10], mic[at:at + BLOCK * 10], at))
        levels.append(canceller.learned_db)
    out = np.concatenate(outs)
    assert min(levels[:20]) < GuardConfig().learnt_room_db, "the moved room still counted as learnt"
    last = slice(15 * RATE, 16 * RATE)
    assert removed_db(mic[last], out[last]) > 15, "the new room was not learnt again"
