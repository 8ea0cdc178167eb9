"""The replay's timeline bar: the cursor and each event where their time falls."""

from __future__ import annotations

from widgets.timeline import TimelineState, bar, state_of


def test_marks_and_the_cursor_sit_where_their_time_falls() -> None:
    state = TimelineState(start=100.0, end=200.0, at=150.0, frame=50, frames=101,
                          marks=((100.0, "incident"), (130.0, "alert"), (130.2, "action"),
                                 (200.0, "action"), (500.0, "alert")),
                          span=(120.0, 140.0))  # fmt: skip
    cells, cursor, inside = bar(state, 11)
    assert "".join(cells) == "●──!──────◆"  # an alert wins a shared cell; 500 is outside
    assert cursor == 5
    assert inside == {2, 3, 4}


def test_state_of_a_recording_position() -> None:
    state = state_of(times=[1.0, 2.0, 4.0], index=1, marks=[(2.5, "alert")], playing=True,
                     speed=10.0)  # fmt: skip
    assert (state.start, state.end, state.at, state.frame, state.frames) == (1.0, 4.0, 2.0, 1, 3)
    assert state.playing and state.speed == 10.0 and state.marks == ((2.5, "alert"),)
