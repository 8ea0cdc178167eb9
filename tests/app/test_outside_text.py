"""Outside text is text, everywhere: markup is shown as typed, escapes never reach the screen."""

from __future__ import annotations

from pathlib import Path

from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import RichLog

from tests.app.conftest import AppFactory
from tests.app.outside import (
    FINGERPRINT,
    FailingReload,
    hostile_snapshot,
    log_reader,
    raw_controls,
    screen_text,
    toast_texts,
)
from tests.app.test_operations import demo_ops
from tui.app import InferdeckApp, SnapshotReady
from tui.config import Config
from tui.ops.build import operations_for
from tui.screens.alerts import AlertsScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.logs import LogView
from widgets.alert_table import AlertTable
from widgets.backends import BackendsDetailTable
from widgets.text import safe

NGINX = 'nginx: [emerg] unknown directive "upstrem" in /etc/nginx/conf.d/llm.conf:3'


async def show(app: InferdeckApp, pilot: Pilot[str | None], value: str, **kwargs: str) -> None:
    assert app.hub.latest is not None
    app.post_message(SnapshotReady(hostile_snapshot(app.hub.latest, value, **kwargs)))
    await pilot.pause()


def palette_texts(app: InferdeckApp) -> list[str]:
    from textual.command import CommandList

    texts = []
    for option in app.screen.query_one(CommandList).options:
        assert isinstance(option.prompt, Content)  # the palette builds each prompt as Content
        texts.append(option.prompt.plain)
    return texts


async def test_markup_in_alert_names_does_not_crash_the_palette(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app, _ = make_app(seconds=5)
    app.ops = demo_ops(tmp_path)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await show(app, pilot, "Down[/y] [b]x")
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        assert app.is_running
        assert f"Acknowledge Down[/y] [b]x ({FINGERPRINT[:8]})" in "\n".join(palette_texts(app))
        await pilot.press(*"ack down")
        await pilot.pause(0.3)
        assert app.is_running
        assert any("Down[/y] [b]x" in t for t in palette_texts(app))
    assert app.return_code in (None, 0)


async def test_acknowledging_an_alert_named_in_markup_shows_the_name_in_the_notice(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app, _ = make_app(seconds=5)
    app.ops = demo_ops(tmp_path)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await show(app, pilot, "[/y]Down")
        await pilot.press("4")
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)
        table = app.screen.query_one(AlertTable)
        table.move_cursor(row=table.get_row_index(FINGERPRINT))
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "[/y]Down" in str(app.screen.query_one("#plan-title").render())
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert app.is_running
        await pilot.pause(0.5)
        assert '"[/y]Down"' in toast_texts(app)
    assert app.return_code in (None, 0)


async def test_notices_keep_brackets_from_nginx_messages(
    make_app: AppFactory, tmp_path: Path
) -> None:
    app, _ = make_app(seconds=5)
    app.ops = demo_ops(tmp_path)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        app.execute(FailingReload(NGINX))
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "[emerg]" in toast_texts(app)
        assert "[emerg]" in screen_text(app)


async def test_a_source_error_with_markup_is_shown_on_the_border(make_app: AppFactory) -> None:
    app, _ = make_app(seconds=5)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await show(app, pilot, "[/bogus]")
        await pilot.press("4")
        await pilot.pause()
        assert app.is_running
        assert "502 [/bogus]" in screen_text(app)


async def test_terminal_escapes_and_bidi_are_shown_not_obeyed(make_app: AppFactory) -> None:
    value = "evil\x1b]52;c;SGVsbG8=\x07\x1b[2J\u202egnp.exe"
    app, _ = make_app(seconds=5)
    app.log_reader = log_reader(value)
    async with app.run_test(size=(160, 40)) as pilot:
        await show(app, pilot, value)
        for key in ("1", "3", "4"):
            await pilot.press(key)
            await pilot.pause()
            text = screen_text(app)
            assert not raw_controls(text), key
            assert "evil␛]52;c;SGVsbG8=␇␛[2J<U+202E>gnp.exe" in text, key
        app.show_logs("web")
        await app.workers.wait_for_complete()
        await pilot.pause()
        lines = [s.text for s in app.screen.query_one(LogView).lines]
        assert lines[1] == safe(value)
        assert not raw_controls(screen_text(app))


async def test_runbook_output_is_shown_literally(make_app: AppFactory, tmp_path: Path) -> None:
    books = tmp_path / "runbooks"
    books.mkdir()
    output = tmp_path / "output"
    output.write_bytes("[/x] [bold]loud \u202eeno\n".encode())
    (books / "echo.yaml").write_text(
        f"name: aaa-echo\ntitle: Echo\nsteps:\n  - name: Cat it\n    run: [cat, '{output}']\n"
    )
    config = Config(path=None, environment="demo", state_dir=str(tmp_path),
                    runbooks_dir=str(books))  # fmt: skip
    app, _ = make_app(seconds=5)
    app.ops = operations_for(config)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await pilot.press("6")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        log = app.screen.query_one("#runbook-log", RichLog)
        text = "\n".join(strip.text for strip in log.lines)
        assert "[/x] [bold]loud <U+202E>eno" in text
        assert app.is_running


async def test_a_ten_thousand_character_label_leaves_the_other_columns_visible(
    make_app: AppFactory,
) -> None:
    long = "x" * 10_000
    app, _ = make_app(seconds=5)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.hub.latest is not None
        for key, headings in (
            ("4", ("Severity", "Alert", "Where", "Summary")),
            ("3", ("Backend", "Pool", "Health", "TTFT", "Err%")),
            ("1", ("Backend", "Pool", "Health", "Err%")),
        ):
            await show(app, pilot, "LongOne", label=long)
            if key == "3":
                await show(app, pilot, long)
            await pilot.press(key)
            await pilot.pause()
            heading_line = next(
                line for line in screen_text(app).splitlines() if headings[-1] in line
            )
            for heading in headings:
                assert heading in heading_line, (key, heading)
            assert "x…" in screen_text(app)
        await pilot.press("4")
        await pilot.pause()
        table = app.screen.query_one(AlertTable)
        table.move_cursor(row=table.get_row_index(FINGERPRINT))
        await pilot.pause()
        detail = app.screen.query_one("#row-detail")
        assert detail.display and long in str(detail.render())
        await show(app, pilot, long)
        await pilot.press("3")
        await pilot.pause()
        backends = app.screen.query_one(BackendsDetailTable)
        backends.move_cursor(row=backends.get_row_index(long))
        await pilot.pause()
        detail = app.screen.query_one("#row-detail")
        assert detail.display and f"backend: {long}" in str(detail.render())
