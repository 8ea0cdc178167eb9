"""`y` copies the selected row through OSC 52: the escape sequence carries the row's text,
control characters made visible, base64-encoded."""

from __future__ import annotations

import base64
import dataclasses
import re

from tests.app.conftest import AppFactory
from tui.app import InferdeckApp, SnapshotReady
from tui.model import Alert, Severity

OSC52 = re.compile(r"\x1b\]52;c;([A-Za-z0-9+/=]*)\x07")


def record_terminal(app: InferdeckApp) -> list[str]:
    """What the app writes to its terminal from now on."""
    written: list[str] = []
    driver = app._driver
    assert driver is not None
    write = driver.write

    def recorded(data: str) -> None:
        written.append(data)
        write(data)

    driver.write = recorded  # type: ignore[method-assign]
    return written


def copied(written: list[str]) -> list[str]:
    return [base64.b64decode(m).decode() for chunk in written for m in OSC52.findall(chunk)]


async def test_y_copies_the_selected_alert_with_controls_made_visible(
    make_app: AppFactory,
) -> None:
    app, _ = make_app(seconds=5)
    snapshot = app.hub.latest
    assert snapshot is not None
    alert = Alert(name="KVCacheHigh", severity=Severity.WARNING,
                  summary="blue-0 KV cache 97%\x1b]52;c;ZXZpbA==\x07 rm -rf",
                  labels={"backend": "blue-0"},
                  starts_at=snapshot.taken_at - 60, fingerprint="f00d")  # fmt: skip
    async with app.run_test(size=(160, 40)) as pilot:
        app.post_message(SnapshotReady(dataclasses.replace(snapshot, alerts=(alert,))))
        await pilot.press("4")
        await pilot.pause()
        written = record_terminal(app)
        await pilot.press("y")
        await pilot.pause()
        [text] = copied(written)
        assert "KVCacheHigh" in text and "blue-0 KV cache 97%" in text and "rm -rf" in text
        assert "\x1b" not in text and "\x07" not in text  # a paste can carry no command
        assert "␛]52;c;ZXZpbA==" in text


async def test_y_copies_a_backend_row_and_a_detail(make_app: AppFactory) -> None:
    app, _ = make_app(seconds=5)
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        written = record_terminal(app)
        await pilot.press("y")
        await pilot.pause()
        [row] = copied(written)
        assert row.startswith("Backend: blue-0 · Pool: blue · Health: up")
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        detail = copied(written)[-1]
        assert detail.startswith("Backend blue-0") and "TTFT p50/95/99" in detail
