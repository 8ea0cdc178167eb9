"""Exposition parsing: the same samples prometheus_client reads, errors naming the line."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from tui.sources import promtext
from tui.sources.promtext import ExpositionError, PageShape, SeriesCache, parse_exposition

NAMES = st.sampled_from(["vllm:a_total", "vllm_b", "x", "other_metric", "DCGM_FI_DEV_GPU_UTIL"])
LABEL_VALUES = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=8
)
VALUES = st.one_of(
    st.floats(allow_nan=False, width=64).map(repr),
    st.sampled_from(["NaN", "+Inf", "-Inf", "0", "1e3", "12"]),
)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


@st.composite
def lines(draw: st.DrawFn) -> str:
    name = draw(NAMES)
    labels = draw(st.dictionaries(st.sampled_from(["a", "le", "model_name"]), LABEL_VALUES))
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
    braces = bool(labels) or draw(st.booleans())  # bare: no labels, and no empty {}
    series = f"{name}{{{inner}}}" if braces else name
    stamp = draw(st.sampled_from(["", " 1700000000000"]))
    return f"{series} {draw(VALUES)}{stamp}"


def _library(text: str, wanted: set[str]) -> list[tuple[str, dict[str, str], float]]:
    return [
        (s.name, dict(s.labels), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name in wanted
    ]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=300, deadline=None)
@given(st.lists(lines(), max_size=12), st.integers(1, 3))
def test_samples_match_prometheus_client(page: list[str], scrapes: int) -> None:
    """Read several times (the series cache warm), a page gives exactly the library's samples."""
    text = "# HELP x something\n# TYPE x gauge\n" + "\n".join(page) + "\n"
    wanted = {"vllm:a_total", "x", "DCGM_FI_DEV_GPU_UTIL"}
    want = _library(text, wanted)
    cache = SeriesCache()
    for _ in range(scrapes):
        got = [
            (s.name, dict(s.labels), s.value) for s in parse_exposition(text, wanted, cache=cache)
        ]
        assert [(n, lb) for n, lb, _ in got] == [(n, lb) for n, lb, _ in want]
        assert all(_same(g[2], w[2]) for g, w in zip(got, want, strict=True))


def _read(text: str, wanted: set[str], **kw: object) -> list[tuple[str, dict[str, str], float]]:
    try:
        return [(s.name, dict(s.labels), s.value) for s in parse_exposition(text, wanted, **kw)]  # type: ignore[arg-type]
    except ExpositionError as exc:
        return [("error", {"why": str(exc)}, 0.0)]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(lines(), max_size=10),
    st.lists(lines(), max_size=4),
    st.lists(VALUES, max_size=10),
    st.sampled_from(["same", "added", "dropped", "swapped", "broken", "new values"]),
)
def test_a_page_read_from_the_last_ones_shape_gives_what_a_full_read_gives(
    page: list[str], extra: list[str], values: list[str], change: str
) -> None:
    """Each scrape's page reuses the previous one's shape; whatever changed between the
    two (series added, dropped, reordered, a line broken, new values), the samples, or
    the error, are those of reading the page from scratch."""
    wanted = {"vllm:a_total", "x", "DCGM_FI_DEV_GPU_UTIL"}
    second = list(page)
    if change == "added":
        second += extra
    elif change == "dropped" and second:
        second.pop(len(second) // 2)
    elif change == "swapped" and len(second) > 1:
        second[0], second[-1] = second[-1], second[0]
    elif change == "broken" and second:
        second[-1] = second[-1][: len(second[-1]) // 2]
    elif change == "new values":
        second = [
            line.rpartition(" ")[0] + " " + value if " " in line else line
            for line, value in zip(second, values + ["7"] * len(second), strict=False)
        ]
    first_text = "# TYPE x gauge\n" + "\n".join(page) + "\n"
    second_text = "# TYPE x gauge\n" + "\n".join(second) + "\n"
    shape = PageShape()
    cache = SeriesCache()
    for text in (first_text, second_text, second_text, first_text):
        got = _read(text, wanted, shape=shape, cache=cache)
        want = _read(text, wanted, cache=SeriesCache())
        assert [(n, lb) for n, lb, _ in got] == [(n, lb) for n, lb, _ in want]
        assert all(_same(g[2], w[2]) for g, w in zip(got, want, strict=True))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(lines(), max_size=10),
    st.lists(
        st.lists(st.one_of(VALUES, st.sampled_from(["1_0", "x", "", "1\r", " 2"])), max_size=10),
        min_size=1,
        max_size=5,
    ),
    st.lists(
        st.sampled_from(
            [
                "values",
                "comment",
                "blank",
                "line broken",
                "renamed",
                "commented out",
                "comment edited",
            ]
        ),
        min_size=1,
        max_size=5,
    ),
)
def test_pages_that_differ_from_the_last_in_a_few_lines_read_as_a_full_read_does(
    page: list[str], rounds: list[list[str]], changes: list[str]
) -> None:
    """Steady state: a page laid out like the last one read is read a list at a time
    (`Layout`); whatever changed (some values, odd or broken values, a comment, a line),
    every page gives the samples, or the error, of a full read."""
    wanted = {"vllm:a_total", "x", "DCGM_FI_DEV_GPU_UTIL"}
    shape = PageShape()
    cache = SeriesCache()
    texts = ["# TYPE x gauge\n" + "\n".join(page) + "\n"] * 3
    current = list(page)
    for values, change in zip(rounds, changes, strict=False):
        nxt = list(current)
        for i, value in enumerate(values[: len(nxt)]):  # some lines get a new value
            if " " in nxt[i] and i % 2 == 0:
                nxt[i] = nxt[i].rpartition(" ")[0] + " " + value
        head = "# TYPE x gauge\n"
        if change == "comment":
            head = "# HELP x changed\n# TYPE x gauge\n"
        elif change == "blank" and nxt:
            nxt.insert(len(nxt) // 2, "")
        elif change == "line broken" and nxt:
            nxt[0] = nxt[0][: len(nxt[0]) // 2]
        elif change == "renamed" and nxt:  # another series in its place, a valid value
            nxt[-1] = 'x{a="renamed"} 3' if nxt[-1] != 'x{a="renamed"} 3' else "x 3"
        elif change == "commented out" and nxt:
            nxt[0] = "# " + nxt[0]
        elif change == "comment edited":
            head = "# TYPE x counter\n"
        texts += [head + "\n".join(nxt) + "\n"] * 2
        current = nxt
    texts.append(texts[0])
    got_all = [_read(text, wanted, shape=shape, cache=cache) for text in texts]
    for text, got in zip(texts, got_all, strict=True):
        want = _read(text, wanted, cache=SeriesCache())
        assert [(n, lb) for n, lb, _ in got] == [(n, lb) for n, lb, _ in want]
        assert all(_same(g[2], w[2]) for g, w in zip(got, want, strict=True))


def test_a_page_laid_out_like_the_last_is_read_from_its_layout() -> None:
    """The third page of a target (same lines, new values) is read by its layout, and
    gives the samples of a full read: names, the same labels objects, the new values."""
    shape = PageShape()
    cache = SeriesCache()
    page = '# TYPE x gauge\nx{{a="1"}} {}\n\nother 3\nvllm:a_total {}\n# EOF\n'
    for first, second in (("1", "2"), ("3", "4")):
        got = parse_exposition(
            page.format(first, second), {"x", "vllm:a_total"}, shape=shape, cache=cache
        )
    assert shape.layout is not None and shape.reused
    last = parse_exposition(
        page.format("5", "+Inf"), {"x", "vllm:a_total"}, shape=shape, cache=cache
    )
    assert last == [got[0]._replace(value=5.0), got[1]._replace(value=math.inf)]
    assert last[0].labels is got[0].labels and type(last[0]) is promtext.PromSample


@pytest.mark.parametrize(
    "page",
    [
        'x{a="1"} 5 1700000000000\n\n# HELP other o\nother 3\n',  # a timestamp
        'x{a="1"} 1_0\n\n# HELP other o\nother 3\n',  # Python reads it, Prometheus not
        'x{a="1"} ten\n\n# HELP other o\nother 3\n',
        'x{a="1"}  5\n\n# HELP other o\nother 3\n',  # two spaces: another series text
        'x{a="1"} 5\n\n# HELP other o\nothers 3\n',  # another series
        'x{a="1"} 5\n\n# HELP other o\nother 3\n\n',  # a line more (blank)
        'x{a="1"} 5\nx{a="2"} 6\n# HELP other o\nother 3\n',  # a sample where a blank was
        'x{a="1"} 5\n\nx{a="2"} 6\nother 3\n',  # a sample where a comment was
        'x{a="1"} 5\n\nx{a="2"} 6_0\nother 3\n',  # a bad line where a comment was
        'x{a="1"} 5\n# HELP x moved\n\nother 3\n',  # comment and blank swapped
    ],
)
def test_a_page_not_laid_out_like_the_last_reads_as_in_full(page: str) -> None:
    """Anything the layout does not hold (a timestamp, an odd number, lines moved, another
    series) gives exactly the samples, or the error, of reading the page afresh."""
    shape = PageShape()
    cache = SeriesCache()
    for value in ("1", "2"):
        _read(f'x{{a="1"}} {value}\n\n# HELP other o\nother 3\n', {"x"}, shape=shape, cache=cache)
    assert shape.layout is not None
    assert _read(page, {"x"}, shape=shape, cache=cache) == _read(page, {"x"}, cache=SeriesCache())


def test_a_page_like_the_last_is_read_from_its_shape() -> None:
    """Steady state: only the values are read (the labels are the same objects)."""
    shape = PageShape()
    first = parse_exposition('x{a="1"} 1\nother 2\n', {"x"}, shape=shape)
    assert shape.series == ['x{a="1"}', "other"]
    second = parse_exposition('x{a="1"} 5\nother 3\n', {"x"}, shape=shape)
    assert second == [first[0]._replace(value=5.0)] and second[0].labels is first[0].labels


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('# TYPE x gauge\nx 1\nx{a="b" nope\n', "line 3:"),
        ("x 1\nother 1_000\n", "line 2:"),  # Python reads 1_000; Prometheus does not
        ("x 1\nother 1 two\n", "line 2:"),  # a timestamp that is not a number
        ('x 1\n\n  y{a="1"} x\n', "line 3:"),
    ],
)
def test_a_bad_line_anywhere_is_refused_with_its_number(text: str, where: str) -> None:
    """Also in metrics nobody asked for: a page broken anywhere is not trusted."""
    for cache in (SeriesCache(), SeriesCache()):
        cache_warm = parse_exposition("x 1\nother 1\n", {"x"}, cache=cache)
        assert cache_warm[0].value == 1.0
        with pytest.raises(ExpositionError, match=f"^{where}"):
            parse_exposition(text, {"x"}, cache=cache)


def test_the_series_cache_is_bounded() -> None:
    """A target churning label values cannot grow the cache without end."""
    cache = SeriesCache(limit=100)
    for i in range(1000):
        parse_exposition(f'x{{id="{i}"}} 1\n', {"x"}, cache=cache)
    assert len(cache) <= 100


def test_labels_are_read_by_prometheus_client_once_per_series() -> None:
    """Steady state: the same series scraped again reuses the labels read the first time."""
    cache = SeriesCache()
    first = parse_exposition('x{a="1"} 1\n', {"x"}, cache=cache)[0]
    second = parse_exposition('x{a="1"} 2\n', {"x"}, cache=cache)[0]
    assert second.labels is first.labels and second.value == 2.0
    with pytest.raises(TypeError):
        second.labels["a"] = "2"  # type: ignore[index]  # shared, so read-only
