"""``lab up`` and ``lab down``: start the stack part by part, record it, stop it by PID.

Order up: backends and GPU exporter (sim processes, or containers), nginx, Alertmanager,
Prometheus, load generator; each is waited for before the next. Down goes in reverse.
A failure half-way stops what was started and raises `LabError` (one line). Every up
starts Prometheus and Alertmanager on empty storage: a lab never inherits the last one's
series or alerts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tui.lab import binaries, nginx, promconf
from tui.lab.options import AlreadyRunning, LabError, LabOptions
from tui.lab.procs import (
    HOST,
    Proc,
    alive,
    free_port,
    http_ok,
    log_tail,
    spawn,
    stop,
    wait_until,
)
from tui.lab.state import LabPaths, liveness, procs_of, read_state, remove_state, write_state
from tui.ops.containers.replicas import replicas_path

START_TIMEOUT_S = 30.0
LOAD_MODEL = "llama-3.1-8b-instruct"
STOP_ORDER = ("load", "prometheus", "alertmanager", "nginx", "gpu", "sim", "podman")


def required_binaries(containers: bool) -> list[str]:
    """The machine's binaries ``lab up`` runs."""
    needed = ["nginx", "prometheus", "prometheus-alertmanager"]
    return [*needed, "podman", "runc", "busybox"] if containers else needed


def python_env() -> dict[str, str]:
    """The environment for the lab's Python children: this repository importable."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Lab:
    """One lab folder: its record, and the steps that start and stop its parts."""

    def __init__(self, paths: LabPaths, say: Callable[[str], None] = lambda _: None) -> None:
        self.paths = paths
        self.say = say
        self.state: dict[str, Any] = {}

    # -- record --------------------------------------------------------------------------

    def record_proc(self, name: str, proc: Proc) -> None:
        """Record a started process as part ``name`` (and save the record)."""
        self.state.setdefault("procs", {})[name] = proc.as_dict()
        write_state(self.paths, self.state)

    def save(self) -> None:
        """Rewrite ``lab.json`` from the current record."""
        write_state(self.paths, self.state)

    # -- up ------------------------------------------------------------------------------

    def up(self, opts: LabOptions) -> dict[str, Any]:
        """Start everything (see the module's docstring); the record. Raises LabError."""
        existing = read_state(self.paths)
        if existing is not None:
            running = [n for n, up in liveness(existing).items() if up]
            if running:
                raise AlreadyRunning(
                    f"a lab is already running in {self.paths.root} "
                    f"({', '.join(running)}); stop it with: inferdeck lab down"
                )
            self.down(existing)  # a stale record (e.g. after a reboot): clean up first
        found = binaries.require(required_binaries(opts.containers))
        self.paths.create()
        self.paths.reset_storage()  # only now: no lab of this folder runs on it any more
        self.state = {
            "version": 1,
            "dir": str(self.paths.root),
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "containers": opts.containers,
            "fast_alerts": opts.fast_alerts,
            "procs": {},
            "ports": {},
            "files": {"state": str(self.paths.state), "logs": str(self.paths.logs)},
        }
        self.save()
        try:
            self._up(opts, found)
        except BaseException:
            self.down(self.state)
            raise
        return self.state

    def _up(self, opts: LabOptions, found: dict[str, str]) -> None:
        if opts.containers:
            from tui.lab.containers import start_container_backends

            start_container_backends(self, opts)
        else:
            self._start_sim(opts)
        self._start_nginx(found["nginx"], opts)
        self._start_alertmanager(found["prometheus-alertmanager"])
        self._start_prometheus(found["prometheus"], opts)
        self._start_load(opts)
        self._write_config(opts)

    def start_sim_process(self, name: str, argv_tail: Sequence[str]) -> dict[str, Any]:
        """Run ``python -m tui.commands sim ARGS`` detached as part ``name``; its description."""
        log = self.paths.logs / f"{name}.log"
        with contextlib.suppress(FileNotFoundError):
            log.unlink()
        argv = [
            sys.executable,
            "-m",
            "tui.commands",
            "sim",
            "--port-base",
            "0",
            "--no-load",
            *argv_tail,
        ]
        proc = spawn(argv, log, env=python_env(), cwd=self.paths.root)
        self.record_proc(name, proc)

        def description() -> dict[str, Any] | None:
            with contextlib.suppress(OSError):
                for line in log.read_text(errors="replace").splitlines():
                    if line.startswith("{"):
                        with contextlib.suppress(ValueError):
                            return dict(json.loads(line))
            return None

        found = wait_until(lambda: description() or not alive(proc), START_TIMEOUT_S, 0.05)
        if not isinstance(found, dict):
            raise LabError(f"the simulator did not start: {log_tail(log) or 'no output'}")
        return found

    def _start_sim(self, opts: LabOptions) -> None:
        pools = ",".join(
            f"{p}={n}:{opts.engines[p]}" if p in opts.engines else f"{p}={n}"
            for p, n in opts.pools.items()
        )
        self.say(f"starting simulated backends ({pools}) and {opts.gpus} GPUs")
        desc = self.start_sim_process(
            "sim",
            ["--pools", pools, "--gpus", str(opts.gpus), "--seed", str(opts.seed),
             "--rps", f"{opts.rps:g}"],
        )  # fmt: skip
        self.state["backends"] = [
            {**b, "control": desc["control"], "sim_name": b["name"]} for b in desc["backends"]
        ]
        self.state["gpu_exporter"] = desc["gpu_exporter"]
        self.state["control"] = desc["control"]
        self.state["ports"]["sim"] = [_port(b["url"]) for b in desc["backends"]] + [
            _port(desc["gpu_exporter"]),
            _port(desc["control"]),
        ]
        self.save()
        self.wait_backends()

    def wait_backends(self) -> None:
        """Wait until every recorded backend's ``/health`` answers 200."""
        for b in self.state["backends"]:
            health = str(b["url"]) + "/health"
            if not wait_until(partial(http_ok, health), START_TIMEOUT_S):
                raise LabError(f"backend {b['name']} at {b['url']} did not become healthy")

    def _start_server(
        self,
        name: str,
        argv_for: Callable[[int], list[str]],
        ready: Callable[[int], bool],
        attempts: int = 3,
    ) -> int:
        """Start part ``name`` on a free port (another on a port clash); the port."""
        log = self.paths.logs / f"{name}.log"
        for _ in range(attempts):
            port = free_port()
            proc = spawn(argv_for(port), log, env=dict(os.environ), cwd=self.paths.root)
            self.record_proc(name, proc)
            if _wait_ready(proc, port, ready):
                self.state["ports"][name] = port
                self.save()
                return port
            stop(proc)
            if "address already in use" not in log_tail(log, 5).lower():
                break
        raise LabError(f"{name} did not start: {log_tail(log) or 'no output'} (log: {log})")

    def _start_nginx(self, binary: str, opts: LabOptions) -> None:
        layout = self.paths.nginx
        logs = self.paths.logs
        backends = self.state["backends"]
        by_pool: dict[str, list[str]] = {}
        for b in backends:
            by_pool.setdefault(b["pool"], []).append(_hostport(b["url"]))
        first = next(iter(by_pool))
        weights = {pool: (100.0 if pool == first else 0.0) for pool in by_pool}
        nginx.write_atomic(
            layout.upstream, nginx.render_upstream(nginx.UPSTREAM_NAME, by_pool, weights)
        )
        # replicas a scale-out added in an earlier lab are gone with its containers
        replicas_path(layout.upstream).unlink(missing_ok=True)
        health = {b["name"]: _hostport(b["url"]) for b in backends}
        self.say(f"starting nginx ({', '.join(f'{p} {w:g}%' for p, w in weights.items())})")

        def argv(port: int) -> list[str]:
            text = nginx.render_nginx_conf(layout, port, logs, health)
            nginx.write_atomic(layout.conf, text)
            problem = nginx.nginx_check(binary, layout, logs)
            if problem:
                raise LabError(f"nginx refuses the generated config: {problem}")
            return nginx.nginx_argv(binary, layout, logs)

        port = self._start_server("nginx", argv, lambda p: http_ok(f"http://{HOST}:{p}/health"))
        self.state["nginx"] = f"http://{HOST}:{port}"
        self.state["nginx_upstream_file"] = str(layout.upstream)
        self.state["files"].update(
            nginx_conf=str(layout.conf), nginx_upstream=str(layout.upstream),
            nginx_pid=str(layout.pid_file), nginx_binary=binary,
        )  # fmt: skip
        self.save()

    def _start_alertmanager(self, binary: str) -> None:
        folder = self.paths.alertmanager
        config = folder / "alertmanager.yml"
        config.write_text(promconf.dump(promconf.alertmanager_config()))
        self.say("starting Alertmanager")

        def argv(port: int) -> list[str]:
            return [
                binary,
                f"--config.file={config}",
                f"--web.listen-address={HOST}:{port}",
                f"--storage.path={self.paths.alertmanager_data}",
                f"--web.external-url=http://{HOST}:{port}/",
                "--cluster.listen-address=",
                "--log.level=warn",
            ]

        port = self._start_server(
            "alertmanager", argv, lambda p: http_ok(f"http://{HOST}:{p}/-/ready")
        )
        self.state["alertmanager"] = f"http://{HOST}:{port}"
        self.state["files"]["alertmanager_config"] = str(config)
        self.save()

    def _start_prometheus(self, binary: str, opts: LabOptions) -> None:
        folder = self.paths.prometheus
        rules = promconf.write_rule_copies(
            promconf.shipped_rules(), folder / "rules", fast=opts.fast_alerts
        )
        targets = [promconf.Target(b["name"], b["pool"], b["url"]) for b in self.state["backends"]]
        config = folder / "prometheus.yml"
        config.write_text(
            promconf.dump(
                promconf.prometheus_config(
                    targets,
                    [self.state["gpu_exporter"]],
                    self.state["nginx"],
                    self.state["alertmanager"],
                    rules,
                )
            )
        )
        mode = "fast alerts" if opts.fast_alerts else "the shipped rules' for:"
        self.say(f"starting Prometheus ({mode})")

        def argv(port: int) -> list[str]:
            return [
                binary,
                f"--config.file={config}",
                f"--web.listen-address={HOST}:{port}",
                f"--storage.tsdb.path={self.paths.prometheus_data}",
                f"--web.external-url=http://{HOST}:{port}/",
                "--web.enable-lifecycle",
                "--log.level=warn",
            ]

        port = self._start_server(
            "prometheus", argv, lambda p: http_ok(f"http://{HOST}:{p}/-/ready")
        )
        self.state["prometheus"] = f"http://{HOST}:{port}"
        self.state["files"].update(prometheus_config=str(config), rules=[str(r) for r in rules])
        self.save()

    def _start_load(self, opts: LabOptions) -> None:
        if opts.rps <= 0:
            return
        self.say(f"starting the load generator ({opts.rps:g} req/s through nginx)")
        log = self.paths.logs / "load.log"
        argv = [
            sys.executable, "-m", "tui.commands", "lab", "load", "--target", self.state["nginx"],
            "--rps", f"{opts.rps:g}", "--seed", str(opts.seed), "--model", LOAD_MODEL,
        ]  # fmt: skip
        proc = spawn(argv, log, env=python_env(), cwd=self.paths.root)
        self.record_proc("load", proc)
        started = wait_until(lambda: "started" in log_tail(log, 5) or not alive(proc), 20)
        if not started or not alive(proc):
            raise LabError(f"the load generator did not start: {log_tail(log) or 'no output'}")

    def _write_config(self, opts: LabOptions) -> None:
        from tui.lab.render import render_config

        text = render_config(self.state)
        nginx.write_atomic(self.paths.config, text)
        self.state["config"] = str(self.paths.config)
        self.save()

    # -- down ----------------------------------------------------------------------------

    def _remove_containers(self, state: dict[str, Any], stopped: list[str]) -> bool:
        if not (state.get("podman") or {}).get("containers"):
            return True
        from tui.lab.containers import remove_containers

        stopped.extend(remove_containers(state))
        return True

    def down(self, state: dict[str, Any] | None = None) -> list[str]:
        """Stop every recorded part (reverse order), remove ``lab.json``; what was stopped."""
        state = read_state(self.paths) if state is None else state
        if state is None:
            return []
        stopped: list[str] = []
        procs = procs_of(state)
        names = sorted(procs, key=lambda n: STOP_ORDER.index(n) if n in STOP_ORDER else 0)
        containers_removed = False
        for name in names:
            if name == "podman" and not containers_removed:
                containers_removed = self._remove_containers(state, stopped)
            if stop(procs[name]):
                stopped.append(name)
        if not containers_removed:
            self._remove_containers(state, stopped)
        podman = state.get("podman") or {}
        run_dir = podman.get("run_dir")
        if run_dir and not Path(run_dir).is_relative_to(podman.get("state_dir", "/")):
            shutil.rmtree(run_dir, ignore_errors=True)  # podman's short temporary run folder
        remove_state(self.paths)
        return stopped


def _wait_ready(proc: Proc, port: int, ready: Callable[[int], bool]) -> bool:
    """Wait until ``ready(port)`` or ``proc`` exits; whether it runs and is ready."""
    wait_until(lambda: ready(port) or not alive(proc), START_TIMEOUT_S)
    return alive(proc) and ready(port)


def _hostport(url: str) -> str:
    return urlsplit(url).netloc


def _port(url: str) -> int:
    port = urlsplit(url).port
    if port is None:
        raise LabError(f"no port in {url}")
    return port
