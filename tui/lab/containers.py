"""``lab up --containers``: each backend in its own container, in a private podman.

A `tui.lab.podman.PodmanEngine` keeps its state under ``DIR/podman`` and serves the
Docker API on a unix socket (what the docker source reads). Each backend runs
``python -m tui.commands sim --pools POOL=1 --gpus 0`` on the host network with fixed ports (so
a stopped and restarted container comes back at the same address), labelled like a
compose service (project ``inferdeck-lab``, service ``vllm-POOL``). Inside its container
a backend is the simulator's only one (``POOL-0``, its name at the control endpoint,
recorded as ``sim_name``). The GPU exporter runs as a host process.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.lab.options import COMPOSE_PROJECT, LabError, LabOptions
from tui.lab.procs import HOST, Proc, alive, free_port, port_free, start_time, wait_until

if TYPE_CHECKING:
    from tui.lab.stack import Lab

CONTROL_OFFSET = 0
BACKEND_OFFSET = 1
GPU_OFFSET = 100


def container_name(backend: str) -> str:
    """The container of backend ``blue-0``: ``inferdeck-lab-vllm-blue-0``."""
    return f"{COMPOSE_PROJECT}-vllm-{backend}"


def port_base(taken: set[int], attempts: int = 200) -> int:
    """A port base B with B, B+1 and B+100 free on loopback (and not in ``taken``)."""
    for _ in range(attempts):
        base = free_port()
        ports = {base + CONTROL_OFFSET, base + BACKEND_OFFSET, base + GPU_OFFSET}
        if base + GPU_OFFSET > 65535 or ports & taken:
            continue
        if all(port_free(p) for p in ports):
            taken.update(ports)
            return base
    raise LabError("found no free ports for a backend container")


def start_container_backends(lab: Lab, opts: LabOptions) -> None:
    """Start the podman service and one container per backend; record them in ``lab``."""
    from tui.lab.podman import EngineError, PodmanEngine

    lab.say("starting a private podman (Docker API)")
    try:
        engine = PodmanEngine(lab.paths.podman)
        url = engine.start()
    except EngineError as exc:
        raise LabError(str(exc)) from None
    pid = engine.pid
    if pid is None:
        raise LabError("podman system service exited at start")
    lab.state["podman"] = {
        "url": url,
        "project": COMPOSE_PROJECT,
        "state_dir": str(engine.state_dir),
        "run_dir": str(engine.run_dir),
        "containers": [],
    }
    lab.record_proc("podman", Proc(pid, start_time(pid), str(engine.log_path)))
    try:
        engine.ensure_base_image()
        backends = _run_backends(lab, engine, opts)
    except EngineError as exc:
        raise LabError(str(exc)) from None
    lab.state["backends"] = backends
    lab.save()
    lab.say("starting the GPU exporter")
    desc = lab.start_sim_process(
        "gpu", ["--pools", "gpus=1", "--gpus", str(opts.gpus), "--seed", str(opts.seed)]
    )
    lab.state["gpu_exporter"] = desc["gpu_exporter"]
    lab.state["control"] = None
    lab.save()
    lab.wait_backends()


def _run_backends(lab: Lab, engine: Any, opts: LabOptions) -> list[dict[str, Any]]:
    backends: list[dict[str, Any]] = []
    taken: set[int] = set()
    index = 0
    for pool, count in opts.pools.items():
        for i in range(count):
            name = f"{pool}-{i}"
            base = port_base(taken)
            spec = f"{pool}=1:{opts.engines[pool]}" if pool in opts.engines else f"{pool}=1"
            argv = [
                sys.executable, "-m", "tui.commands", "sim", "--pools", spec, "--gpus", "0",
                "--no-load", "--port-base", str(base), "--seed", str(opts.seed + index),
            ]  # fmt: skip
            lab.say(f"starting container {container_name(name)}")
            cid = engine.run_backend(
                container_name(name),
                argv,
                labels={"io.inferdeck.backend": name, "io.inferdeck.pool": pool},
                port=base + BACKEND_OFFSET,
                project=COMPOSE_PROJECT,
                service=f"vllm-{pool}",
            )
            lab.state["podman"]["containers"].append(cid)
            lab.state["ports"].setdefault("containers", []).extend(
                [base + CONTROL_OFFSET, base + BACKEND_OFFSET, base + GPU_OFFSET]
            )
            lab.save()
            backends.append(
                {
                    "name": name,
                    "pool": pool,
                    "model": "llama-3.1-8b-instruct",
                    "url": f"http://{HOST}:{base + BACKEND_OFFSET}",
                    "control": f"http://{HOST}:{base + CONTROL_OFFSET}",
                    "sim_name": f"{pool}-0",
                    "container": container_name(name),
                    "container_id": cid,
                }
            )
            index += 1
    return backends


def remove_containers(state: dict[str, Any]) -> list[str]:
    """Remove the recorded containers by id; what was removed.

    Through the Docker API while the lab's podman service still answers (``lab down``
    removes containers before it stops the service), else through podman's CLI with the
    recorded storage and run folders. Waits until their ``conmon`` monitors are gone.
    """
    podman = state.get("podman") or {}
    ids = list(podman.get("containers") or [])
    if not ids:
        return []
    removed = _remove_through_api(podman["url"], ids)
    if removed is None:
        removed = _remove_through_cli(podman, ids)
    wait_until(lambda: not _monitors(ids), 10.0, 0.1)
    podman["containers"] = []
    return [f"container {cid[:12]}" for cid in removed]


def _remove_through_api(url: str, ids: list[str]) -> list[str] | None:
    import docker

    try:
        client = docker.DockerClient(base_url=url, timeout=30)
        client.version()
    except Exception:  # the service is gone (or never answered): use the CLI
        return None
    removed = []
    try:
        # the engine is the lab's own: every container in it was started by lab up
        with contextlib.suppress(docker.errors.DockerException):
            listed = [str(c.id) for c in client.containers.list(all=True)]
            ids = [*ids, *(cid for cid in listed if cid not in ids)]
        for cid in ids:
            with contextlib.suppress(docker.errors.NotFound):
                client.api.remove_container(cid, force=True, v=True)
                removed.append(cid)
    finally:
        client.close()
    return removed


def _remove_through_cli(podman: dict[str, Any], ids: list[str]) -> list[str]:
    from tui.lab.podman import EngineError, PodmanEngine

    try:
        engine = PodmanEngine(podman["state_dir"])
    except EngineError:
        return []
    spare = engine.run_dir
    engine.run_dir = Path(podman["run_dir"])  # the run folder the service used
    removed = []
    try:
        for cid in ids:
            with contextlib.suppress(EngineError):
                engine.podman_cmd("rm", "--force", "--time", "2", "--ignore", cid, timeout_s=30)
                removed.append(cid)
    finally:
        if spare != engine.run_dir and not spare.is_relative_to(engine.state_dir):
            shutil.rmtree(spare, ignore_errors=True)  # a temporary one the constructor made
    return removed


def _monitors(ids: list[str]) -> list[int]:
    """PIDs of processes (conmon) still naming one of the containers ``ids``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if any(cid.encode() in cmdline for cid in ids) and alive(Proc(int(entry.name), None)):
            found.append(int(entry.name))
    return found
