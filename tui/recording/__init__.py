"""The flight recorder: what every dashboard showed, recorded, and replayed.

Textual-free; above `tui.ops` (it follows the audit log and the incidents database to
interleave their events) and below the UI, which replays recordings through `replay`.

Modules:

* `format` — the file format (version 3; reads 1 and 2 too): header, checksummed blocks, what
  changed between frames (the leaves that moved, or a patch).
* `precision` — what a recording keeps: figures to 3 significant digits, times to the
  millisecond, the moments that move with the frames as offsets from the frame's time
  to 0.1 s (`recorded_json`: a snapshot as its replay prints it).
* `history` — the chart series a frame moves on by its own figures, derived on reading.
* `writer` — `RecordingWriter`: frames (keyframes and what changed), events, segments
  rotated by size and age (`Limits`); a segment that cannot be written is given up.
* `reader` — `open_recording` → `Recording`: frame times, events, the snapshot at a time;
  `parse_time` for ``--at``.
* `config` — the config's ``recording:`` section and where recordings go.
* `recorder` — `start_recorder(config, hub)`: the hub's subscriber, in its own thread;
  why it cannot write in `last_error` (the dashboard shows it).
* `replay` — `ReplayHub`, the hub a replayed dashboard runs on: a player over a
  `Recording` (step, jump, play 1x-60x, pause).
* `figures` — the key figures over a time span (p95 vs SLO, errors, queue, GPU) for the
  post-incident document, and cutting a segment out of a recording.
"""
