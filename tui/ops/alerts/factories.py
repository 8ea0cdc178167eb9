"""Which acknowledgement actions a config makes: Alertmanager silences, or local acks."""

from __future__ import annotations

from collections.abc import Callable

from tui.config import Config
from tui.model import Alert
from tui.ops.alerts.local_acks import ACKS_FILE, AckStore, LocalAck, LocalUnack, state_dir_of
from tui.ops.alerts.silences import AckAlert, AlertmanagerEndpoint, UnackAlert
from tui.ops.executor import Action


def ack_factories(
    config: Config | None, actor: str
) -> tuple[Callable[[Alert, str, float | None], Action], Callable[[Alert], Action]]:
    """``(ack, unack)`` for `tui.ops.context.Operations`: Alertmanager silences when the
    config has ``sources.alertmanager``, else local acks in ``STATE_DIR/acks.json``.

    ``ack(alert, comment, duration_s)``: an empty comment means ``ack: <actor>``, None
    for the duration means the config's ``ack_duration_s`` (else an hour).
    """
    am = config.sources.alertmanager if config is not None else None
    if am is not None:
        endpoint = AlertmanagerEndpoint.from_config(am)
        default = am.ack_duration_s

        def ack(alert: Alert, comment: str, duration_s: float | None) -> Action:
            return AckAlert(endpoint, alert, actor, comment or None, duration_s or default)

        def unack(alert: Alert) -> Action:
            return UnackAlert(endpoint, alert)

        return ack, unack
    store = AckStore(state_dir_of(config) / ACKS_FILE)

    def local_ack(alert: Alert, comment: str, duration_s: float | None) -> Action:
        return LocalAck(store, alert, actor, comment or None, duration_s or 3600.0)

    def local_unack(alert: Alert) -> Action:
        return LocalUnack(store, alert)

    return local_ack, local_unack
