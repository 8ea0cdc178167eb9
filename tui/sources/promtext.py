"""Prometheus exposition text → flat samples, with a one-line error saying where it broke.

Parsing is prometheus_client's: every series (metric name and label set) is read by its
classic text parser, which also reads OpenMetrics sample lines (``# EOF``, exemplars).
Samples are flat ``(name, labels, value)`` keyed by *sample* name as on the wire, because
a recent prometheus_client serving OpenMetrics escapes ``vllm:x`` to ``vllm_x`` on sample
lines while leaving ``# TYPE`` lines alone.

Cost: a page is scraped every second, and its series are the same from one scrape to
the next; only the values change. So each distinct series text (``name{labels}``) is
checked and read by prometheus_client once, and remembered (`SeriesCache`); a line whose
series is known costs a dictionary look-up and a ``float``. Lines of metrics the caller
does not want are checked once per series and never turned into samples. Anything
unusual (a series not seen before, an odd value, a timestamp, an exemplar) goes to
prometheus_client line by line, whose verdict stands.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from itertools import repeat
from operator import itemgetter
from types import MappingProxyType
from typing import Any, NamedTuple

from tui.sources._prom_parser import parser_module

#: Longest error message kept (reasons are shown on one line).
MAX_REASON = 160


class ExpositionError(ValueError):
    """The text is not Prometheus exposition; the message is one line, with a line number."""


class PromSample(NamedTuple):
    """One sample line: metric name as on the wire, labels, value."""

    name: str
    labels: Mapping[str, str]
    value: float


def one_line(text: str, limit: int = MAX_REASON) -> str:
    """``text`` squeezed to one printable line of at most ``limit`` characters."""
    flat = " ".join(text.split())
    flat = "".join(ch if ch.isprintable() else "?" for ch in flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


_SAMPLE_LINE = re.compile(
    r"([a-zA-Z_:][a-zA-Z0-9_:]*)"  # metric name
    r'(\{(?:[^"\\}]|"(?:[^"\\]|\\.)*")*\})?'  # labels, values may hold } and "
    r"[ \t]+(\S+)(?:[ \t]+\S+)?[ \t]*(?:#.*)?"  # value, timestamp, OpenMetrics exemplar
)
"""A plain sample line; its series part (name and labels) is what `SeriesCache` keys on."""

_text_families = parser_module().text_string_to_metric_families
"""prometheus_client's classic text parser (loaded without its package's HTTP server)."""

_EMPTY: Mapping[str, str] = MappingProxyType({})


class SeriesCache:
    """Series text (``name{labels}``) → its name and labels, as prometheus_client read them.

    Labels are read only for series someone wanted (None until then). Bounded: past
    `limit` series (a target churning label values) it starts again from empty.
    """

    def __init__(self, limit: int = 200_000) -> None:
        """An empty cache holding at most ``limit`` series."""
        self.limit = limit
        self._known: dict[str, tuple[str, Mapping[str, str] | None]] = {}
        #: The (name, labels or None) of a series checked before; None when unknown.
        self.get: Callable[[str], tuple[str, Mapping[str, str] | None] | None] = self._known.get

    def __len__(self) -> int:
        """How many series are remembered."""
        return len(self._known)

    def learn(self, series: str, name: str) -> tuple[str, Mapping[str, str] | None]:
        """Remember a series that `_SAMPLE_LINE` accepted, labels not read yet."""
        if len(self._known) >= self.limit:
            self._known.clear()
        entry = self._known[series] = (name, None)
        return entry

    def labels(self, series: str, name: str, number: int) -> Mapping[str, str]:
        """The labels of a known series, read by prometheus_client on first need."""
        got = self._known.get(series)
        if got is not None and got[1] is not None:
            return got[1]
        if series == name:
            labels = _EMPTY
        else:
            parsed = _library_samples(series + " 0", number)
            labels = MappingProxyType(dict(parsed[0].labels)) if parsed else _EMPTY
        self._known[series] = (name, labels)
        return labels


#: The process's cache, shared by every page (vLLM backends repeat the same series).
SERIES = SeriesCache()


class PageShape:
    """The sample lines of one target's last page, in order: what the next page reuses.

    A server writes the same series in the same order at every scrape; only the values
    change. Given the shape of its last page, `parse_exposition` checks each line of the
    next one against it (one comparison and a ``float`` a line) instead of reading it;
    any difference — a series more or less, another order, a timestamp — reads the page
    the ordinary way and takes its shape. Keep one per target.

    Once a page has been read from the shape, where its lines were is kept too (its
    `Layout`): the next page with comments, blank lines and sample lines in the same
    places is checked and read a whole list at a time, without Python code per line.
    """

    __slots__ = ("kept", "layout", "reused", "series")

    def __init__(self) -> None:
        """No shape yet: the first page is read the ordinary way."""
        self.series: list[str] = []  # each sample line's text before its value
        self.kept: list[tuple[str, Mapping[str, str]] | None] = []  # (name, labels) if wanted
        #: Whether the last page read was read from this shape (its samples, in the same
        #: order, have the same names and labels as the page before's).
        self.reused = False
        #: Where the lines of the last page read from the shape were; None until one was.
        self.layout: Layout | None = None

    def take(self, series: list[str], kept: list[tuple[str, Mapping[str, str]] | None]) -> None:
        """Become the shape of a page read in full (no page reused from it yet)."""
        self.series, self.kept = series, kept
        self.layout = None


def _pick(indices: list[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function taking the items at ``indices`` from a list, always as a tuple."""
    if len(indices) > 1:
        return itemgetter(*indices)
    if indices:
        only = indices[0]
        return lambda items: (items[only],)
    return lambda items: ()


#: ``slice(n, None)`` by ``n``: where the values of sample lines begin, shared by layouts.
_VALUE_FROM: dict[int, slice] = {}


class Layout:
    """Where a page read from its shape had its comment, blank and sample lines, what each
    sample line said before its value, and which samples were wanted.

    `read` takes the next page when its lines are in the same places and each sample
    line is its series, a space and one number, as the line-by-line reading of
    `_reuse_shape` requires, and gives the samples that reading gives; it works on whole
    lists (``map`` over the lines) rather than line by line, which is what a page costs
    at every scrape. Any other page is left to the line-by-line reading (None).
    """

    __slots__ = ("blanks", "comments", "count", "names", "prefixes", "sample_lines", "values")

    def __init__(
        self,
        lines: list[str],
        series: list[str],
        kept: list[tuple[str, Mapping[str, str]] | None],
    ) -> None:
        """The layout of ``lines``, a page whose sample lines are ``series`` in order (of
        which those with a ``kept`` (name, labels) are wanted)."""
        blanks, comments, samples = [], [], []
        for i, line in enumerate(lines):
            if not line:
                blanks.append(i)
            elif line[0] == "#":
                comments.append(i)
            else:
                samples.append(i)
        self.count = len(lines)
        self.blanks, self.comments = _pick(blanks), _pick(comments)
        self.sample_lines = _pick(samples)
        #: each sample line's start (its series and a space), and where its value begins
        self.prefixes = [s + " " for s in series]
        self.values = [_VALUE_FROM.setdefault(len(p), slice(len(p), None)) for p in self.prefixes]
        #: the wanted samples: which of the values, and their names and labels
        wanted = [i for i, k in enumerate(kept) if k is not None]
        self.names = (
            _pick(wanted),
            [k[0] for k in kept if k is not None],
            [k[1] for k in kept if k is not None],
        )

    def read(self, lines: list[str]) -> list[PromSample] | None:
        """The wanted samples of a page's ``lines`` laid out like this one; else None."""
        if len(lines) != self.count:
            return None
        found = self.sample_lines(lines)
        if not all(map(str.startswith, found, self.prefixes)):
            return None
        values = list(map(str.__getitem__, found, self.values))
        joined = "".join(values)
        # a space: more than one token after the series (a timestamp), which the
        # line-by-line reading would have split off; "_": a number Prometheus refuses
        if " " in joined or "_" in joined:
            return None
        try:
            numbers = list(map(float, values))
        except ValueError:
            return None
        if any(self.blanks(lines)) or not all(
            map(str.startswith, self.comments(lines), repeat("#"))
        ):
            return None
        pick, names, labels = self.names
        # PromSample(name, labels, value) for each, made without a Python call each
        return list(
            map(tuple.__new__, repeat(PromSample), zip(names, labels, pick(numbers), strict=True))
        )


def _reuse_shape(text: str, shape: PageShape) -> list[PromSample] | None:
    """The wanted samples of ``text`` when its sample lines have ``shape``; else None."""
    expected, kept = shape.series, shape.kept
    count = len(expected)
    if not count:
        return None
    lines = text.split("\n")
    if shape.layout is not None:
        read = shape.layout.read(lines)
        if read is not None:
            return read
    out = []
    at = 0
    for line in lines:
        if not line or line[0] == "#":
            continue
        if at == count:
            return None
        series, _, value = line.rpartition(" ")
        if series != expected[at] or "_" in value:
            return None
        try:
            number = float(value)
        except ValueError:
            return None
        wanted = kept[at]
        at += 1
        if wanted is not None:
            out.append(PromSample(wanted[0], wanted[1], number))
    if at != count:
        return None
    shape.layout = Layout(lines, expected, kept)
    return out


def _library_samples(line: str, number: int) -> list[PromSample]:
    """One line read by prometheus_client alone; `ExpositionError` naming ``number``."""
    try:
        return [
            PromSample(str(s.name), dict(s.labels), float(s.value))
            for family in _text_families(line + "\n")
            for s in family.samples
        ]
    except Exception as exc:
        detail = str(exc) or type(exc).__name__
        raise ExpositionError(one_line(f"line {number}: {detail}")) from None


def _value(text: str) -> float | None:
    """A sample value as prometheus_client reads it; None for anything it might not."""
    if "_" in text:
        return None  # float() takes 1_000, Prometheus does not
    try:
        return float(text)
    except ValueError:
        return None


def _slow_line(
    line: str, number: int, want: Callable[[str], bool], cache: SeriesCache, out: list[PromSample]
) -> None:
    """A line the fast path could not take: learn its series if plain, else ask the library."""
    match = _SAMPLE_LINE.fullmatch(line)
    value = None if match is None else _value(match.group(3))
    stamp = [] if match is None else line[match.end(3) :].split()[:1]
    if (
        match is None
        or value is None
        or (stamp and stamp[0][0] != "#" and _value(stamp[0]) is None)
    ):
        for sample in _library_samples(line, number):  # raises unless prometheus_client accepts it
            if want(sample.name):
                out.append(sample)
        return
    name = match.group(1)
    series = line[: match.end(2) if match.group(2) else match.end(1)]
    if cache.get(series) is None:
        cache.learn(series, name)
    if want(name):
        out.append(PromSample(name, cache.labels(series, name, number), value))


def parse_exposition(
    text: str,
    wanted: Collection[str] | Callable[[str], bool] | None = None,
    *,
    cache: SeriesCache = SERIES,
    shape: PageShape | None = None,
) -> list[PromSample]:
    """The samples in ``text``; non-finite values are kept (callers decide).

    ``wanted``: the sample names to return (a set, or a predicate on names); None for
    all. Every line is checked all the same, so a page broken anywhere is refused.
    ``shape``: the target's `PageShape` (the same ``wanted`` every time): a page like the
    last one is read from it, and a page read here becomes the new shape.

    Raises `ExpositionError` with a message like ``line 3: could not convert ...``.
    An empty text yields no samples (an exporter may legitimately have nothing).
    """
    if "\x00" in text:
        raise ExpositionError("binary data (NUL byte) in metrics")
    if shape is not None:
        reused = _reuse_shape(text, shape)
        shape.reused = reused is not None
        if reused is not None:
            return reused
    learnt = PageShape() if shape is not None else None  # the shape of this page
    want: Callable[[str], bool]
    if wanted is None:
        want = _everything
    elif callable(wanted):
        want = wanted
    else:
        want = wanted.__contains__
    out: list[PromSample] = []
    known = cache.get
    # Lines end at "\n" only, as for prometheus_client (a label value may hold a "\r").
    for number, line in enumerate(text.split("\n"), start=1):
        if not line:
            continue
        first = line[0]
        if first == "#":
            continue
        if first in " \t":  # trailing blanks are dropped by split() below
            line = line.strip()
            if not line or line[0] == "#":
                continue
        end = line.rfind("}")
        if end < 0:
            series, _, rest = line.partition(" ")
        else:
            series, rest = line[: end + 1], line[end + 1 :]
        entry = known(series)
        parts = rest.split()
        if entry is None or len(parts) != 1 or not rest.startswith(" ") or "_" in parts[0]:
            _slow_line(line, number, want, cache, out)
            if learnt is not None:
                _learn_shape(learnt, line, cache, want, out)
            continue
        try:
            value = float(parts[0])
        except ValueError:
            _slow_line(line, number, want, cache, out)
            if learnt is not None:
                _learn_shape(learnt, line, cache, want, out)
            continue
        name, labels = entry
        if not want(name):
            if learnt is not None:
                learnt.series.append(line.rpartition(" ")[0])
                learnt.kept.append(None)
            continue
        if labels is None:
            labels = cache.labels(series, name, number)
        out.append(PromSample(name, labels, value))
        if learnt is not None:
            learnt.series.append(line.rpartition(" ")[0])
            learnt.kept.append((name, labels))
    if shape is not None and learnt is not None:  # the whole page was read: keep its shape
        shape.take(learnt.series, learnt.kept)
    return out


def _learn_shape(
    shape: PageShape,
    line: str,
    cache: SeriesCache,
    want: Callable[[str], bool],
    out: list[PromSample],
) -> None:
    """Add a line the slow path read to ``shape``: a plain series line as its series
    (the next page reads it from the shape); anything else (a timestamp, an exemplar)
    makes a shape that no page matches, so such pages are always read line by line."""
    series = line.rpartition(" ")[0]
    entry = cache.get(series)
    if entry is None:
        shape.series.append("\n")  # never a line's series: the next page is read in full
        shape.kept.append(None)
        return
    name = entry[0]
    kept = (name, out[-1].labels) if want(name) and out and out[-1].name == name else None
    shape.series.append(series)
    shape.kept.append(kept)


def _everything(name: str) -> bool:
    """Every sample name is wanted."""
    del name
    return True


def has_samples(text: str) -> bool:
    """Whether an exposition has any sample line (not only comments and blank lines)."""
    return any(line.strip() and not line.startswith("#") for line in text.splitlines())


def finite(value: float) -> bool:
    """True unless ``value`` is NaN or infinite."""
    return not (math.isnan(value) or math.isinf(value))
