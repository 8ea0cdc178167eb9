"""A fleet of TGI and llama.cpp backends on the Backends screen: every cell a figure or
``n/a (ENGINE)`` — never an empty cell the engine cannot fill."""

from __future__ import annotations

from tests.app.conftest import AppFactory
from tests.app.test_screens import cells
from tui.sim.config import SimConfig
from widgets.backends import BackendsDetailTable
from widgets.format import DASH

SIM = SimConfig(pools={"blue": 1, "green": 1}, engines={"blue": "tgi", "green": "llamacpp"}, gpus=2)


async def test_backends_screen_says_what_each_engine_does_not_expose(make_app: AppFactory) -> None:
    app, _ = make_app(seconds=30, sim=SIM)
    async with app.run_test(size=(220, 40)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        table = app.screen.query_one(BackendsDetailTable)
        tgi, llama = cells(table, "blue-0"), cells(table, "green-0")
        # columns: backend pool health model run wait kv ttft e2e queue itl in out rpm err
        assert tgi[6] == "n/a (tgi)" and tgi[7] == "n/a (tgi)"
        assert tgi[8].count("s") >= 3 and DASH not in tgi[8]  # TGI's own e2e histogram
        assert llama[6] == llama[7] == llama[8] == llama[9] == "n/a (llamacpp)"
        assert llama[10].startswith("mean ")  # llama.cpp totals only: a mean ITL
        assert llama[13] == llama[14] == "n/a (llamacpp)"
        for row in (tgi, llama):
            assert row[3]  # the model, from the config (neither engine labels it)
            assert DASH not in row[4:15], row


async def test_traffic_screen_pools_say_what_their_engine_does_not_expose(
    make_app: AppFactory,
) -> None:
    from widgets.traffic import PoolTable

    app, _ = make_app(seconds=30, sim=SIM)
    async with app.run_test(size=(200, 40)) as pilot:
        await pilot.press("5")
        await pilot.pause()
        table = app.screen.query_one(PoolTable)
        tgi, llama = cells(table, "blue"), cells(table, "green")
        # columns: pool version share up rpm err ttft e2e
        assert tgi[6] == "n/a (tgi)" and DASH not in tgi[7]
        assert llama[4] == llama[5] == llama[6] == llama[7] == "n/a (llamacpp)"
