"""Picks the traffic router a config's ``traffic:`` section describes.

Kept apart from `tui.ops.traffic.weights` (the protocol the routers implement) so that the
routers import the protocol and only this module imports the routers: no import circle.
"""

from __future__ import annotations

from tui.config import TrafficConfig
from tui.ops.traffic.weights import Router, RouterError


def router_from_config(traffic: TrafficConfig) -> Router:
    """The router a ``traffic:`` section describes."""
    if traffic.router == "sim":
        from tui.ops.traffic.sim import SimRouter

        if not traffic.sim_control:
            raise RouterError("traffic.router sim needs traffic.sim_control")
        return SimRouter(traffic.sim_control)
    from tui.ops.traffic.nginx import NginxRouter

    if traffic.nginx is None:
        raise RouterError("traffic.router nginx needs a traffic.nginx section")
    return NginxRouter(traffic.nginx)
