"""``inferdeck lab up --pools blue=1:vllm,green=1:sglang``: a mixed fleet through the lab's
real Prometheus and nginx, read by both collectors from the config the lab writes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.integration.real_servers import require_binary, wait_for
from tests.integration.test_lab import BINARIES, lab_cmd
from tui.config import load_config
from tui.model import Backend, Collected
from tui.sources.prometheus import PrometheusSource
from tui.wiring import sources_for

pytestmark = pytest.mark.integration


def test_a_mixed_fleet_in_the_lab(tmp_path: Path) -> None:
    for binary, package in BINARIES:
        require_binary(binary, package)
    folder = tmp_path / "lab"
    up = lab_cmd("up", "--dir", folder, "--pools", "blue=1:vllm,green=1:sglang", "--gpus", "1",
                 "--rps", "10")  # fmt: skip
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        status = json.loads(lab_cmd("status", "--dir", folder, "--json").stdout)
        config = load_config(status["config"])
        assert config.sources.prometheus is not None
        prometheus = PrometheusSource(config.sources.prometheus.url, window="15s")
        scrape = next(s for s in sources_for(config) if s.name == "scrape")

        def engines(collected: Collected) -> dict[str, str]:
            return {b.pool: b.engine for b in collected.backends or ()}

        def ready() -> Collected | None:
            got = asyncio.run(prometheus.collect())
            blue = [b for b in got.backends or () if b.pool == "blue"]
            return got if blue and blue[0].traffic.generation_tokens_per_s else None

        via_prom = wait_for(ready, 45.0, 1.0)
        assert via_prom is not None, "Prometheus never read the blue pool's traffic"
        assert engines(via_prom) == {"blue": "vllm", "green": "sglang"}
        green: Backend = next(b for b in via_prom.backends or () if b.pool == "green")
        assert green.unexposed == {"errors"}
        direct = asyncio.run(scrape.collect())
        assert engines(direct) == {"blue": "vllm", "green": "sglang"}
        assert all(b.running is not None for b in direct.backends or ())
    finally:
        lab_cmd("down", "--dir", folder)
