"""The docker source without an engine: parsing, log classification, PID → container,
stack filtering and actions over a fake API, and the podman helpers that need no podman."""

from __future__ import annotations

import errno
import tarfile
from pathlib import Path
from typing import Any

import pytest
import requests

from tui.lab import podman
from tui.sources._docker_parse import (
    connection_problem,
    container_from_inspect,
    in_stack,
    is_error_line,
    log_lines,
    normalise_state,
    parse_timestamp,
)
from tui.sources.docker import DockerError, DockerSource

ID_A = "a" * 64
ID_B = "b" * 64


@pytest.mark.parametrize(
    "line",
    [
        "ERROR 05-07 engine died",
        "RuntimeError: boom",
        "Traceback (most recent call last):",
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2 GiB",
        "FATAL: worker lost",
        "container was OOMKilled",
        "killed: oom",
        "ValueError exception in handler",
        "kernel panic",
    ],
)
def test_error_lines_are_flagged(line: str) -> None:
    assert is_error_line(line)


@pytest.mark.parametrize(
    "line", ["INFO ready on :8000", "room for 12 more sequences", "zoom", "GET /health 200", ""]
)
def test_ordinary_lines_are_not_flagged(line: str) -> None:
    assert not is_error_line(line)


def test_log_lines_keep_hostile_bytes_as_text() -> None:
    raw = b"ok\r\n$(touch /tmp/x)\n[bold]x[/]\n\x1b[31mred\nbad \xff byte\nsep\xc2\x85here\nlast\n"
    lines = log_lines(raw)
    assert [line.text for line in lines] == [
        "ok",
        "$(touch /tmp/x)",
        "[bold]x[/]",
        "\x1b[31mred",
        "bad \ufffd byte",
        "sep\x85here",  # only \n separates lines
        "last",
    ]
    assert not any(line.is_error for line in lines)


def test_log_lines_limit_takes_the_last() -> None:
    lines = log_lines(b"a\nfatal b\nc", 2)
    assert [(line.text, line.is_error) for line in lines] == [("fatal b", True), ("c", False)]
    assert log_lines(b"a\nb\n", 0) == []
    assert log_lines(b"") == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-07T10:00:00.123456789Z", 1715076000.123456789),
        ("2024-05-07T10:00:00Z", 1715076000.0),
        ("2024-05-07T12:00:00.5+02:00", 1715076000.5),
        ("2024-05-07T05:00:00-0500", 1715076000.0),
        ("0001-01-01T00:00:00Z", None),
        (1715076000, 1715076000.0),
        (0, None),
        ("", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_parse_timestamp(value: Any, expected: float | None) -> None:
    got = parse_timestamp(value)
    assert got == pytest.approx(expected) if expected is not None else got is None


def test_podman_states_read_as_dockers() -> None:
    assert normalise_state("stopped") == "exited"
    assert normalise_state("configured") == "created"
    assert normalise_state("Running") == "running"
    assert normalise_state(None) == "unknown"


def _attrs(
    name: str = "lab-vllm-blue-1",
    cid: str = ID_A,
    status: str = "running",
    project: str | None = "lab",
    health: dict[str, Any] | None = None,
    pid: int = 0,
) -> dict[str, Any]:
    labels = {"com.docker.compose.service": "vllm-blue"}
    if project is not None:
        labels["com.docker.compose.project"] = project
    state: dict[str, Any] = {
        "Status": status,
        "Running": status == "running",
        "ExitCode": 137 if status in ("exited", "stopped") else 0,
        "StartedAt": "2024-05-07T10:00:00Z",
        "Pid": pid,
    }
    if health is not None:
        state["Health"] = health
    return {
        "Id": cid,
        "Name": "/" + name,
        "Created": "2024-05-07T09:59:59Z",
        "RestartCount": 2,
        "State": state,
        "Config": {"Image": "vllm/vllm-openai:v0.10", "Labels": labels},
    }


def test_container_from_docker_inspect() -> None:
    c = container_from_inspect(_attrs(health={"Status": "healthy", "FailingStreak": 0}))
    assert (c.name, c.id, c.image, c.state, c.health) == (
        "lab-vllm-blue-1",
        ID_A,
        "vllm/vllm-openai:v0.10",
        "running",
        "healthy",
    )
    assert (c.restart_count, c.exit_code, c.service, c.project) == (2, None, "vllm-blue", "lab")
    assert c.started_at == 1715076000.0 and c.created_at == 1715075999.0


def test_container_from_podman_inspect() -> None:
    c = container_from_inspect(_attrs(status="stopped", health={"Status": "", "Log": None}))
    assert (c.state, c.exit_code, c.health) == ("exited", 137, None)
    created = container_from_inspect(_attrs(status="created"))
    assert created.started_at is None and created.exit_code is None


def test_in_stack() -> None:
    labels = {"com.docker.compose.project": "lab"}
    assert in_stack("x", labels, "lab", ())
    assert not in_stack("x", labels, "prod", ())
    assert in_stack("vllm-green-0", None, "prod", ("vllm-*",))
    assert not in_stack("nginx", {}, None, ("vllm-*",))
    assert in_stack("anything", None, None, ())


def test_connection_problems_in_words() -> None:
    missing = requests.ConnectionError(
        "('Connection aborted.', FileNotFoundError(2, 'No such file or directory'))"
    )
    missing.__context__ = FileNotFoundError(errno.ENOENT, "No such file or directory")
    assert connection_problem(missing, 5) == "no such socket"
    refused = requests.ConnectionError(ConnectionRefusedError(errno.ECONNREFUSED, "refused"))
    assert connection_problem(refused, 5) == "connection refused"
    assert connection_problem(requests.ReadTimeout("Read timed out."), 2.5) == (
        "no answer within 2.5s"
    )
    assert connection_problem(TimeoutError("timed out"), 1) == "no answer within 1s"
    assert connection_problem(ValueError("404 no such container"), 1) is None


class FakeApi:
    """The part of docker's APIClient the source uses, over fixed inspect answers."""

    def __init__(self, containers: list[dict[str, Any]]) -> None:
        self.all = containers
        self.by_ref = {a["Id"]: a for a in containers} | {a["Name"][1:]: a for a in containers}
        self.calls: list[tuple[str, str]] = []

    def containers(self, all: bool = False) -> list[dict[str, Any]]:
        return [
            {"Id": a["Id"], "Names": [a["Name"]], "Labels": a["Config"]["Labels"]} for a in self.all
        ]

    def inspect_container(self, ref: str) -> dict[str, Any]:
        if ref not in self.by_ref:
            raise ValueError(f'no container with name or ID "{ref}" found: no such container')
        return self.by_ref[ref]

    def stop(self, ref: str, timeout: int) -> None:
        self.calls.append(("stop", ref))
        self.by_ref[ref]["State"]["Status"] = "exited"


class FakeClient:
    def __init__(self, api: FakeApi) -> None:
        self.api = api

    def close(self) -> None:
        pass


def _source(api: FakeApi, tmp_path: Path, **kwargs: Any) -> DockerSource:
    source = DockerSource("unix:///fake.sock", proc_root=str(tmp_path), **kwargs)
    source._client = FakeClient(api)
    return source


def _fake_proc(root: Path, pid: int, ppid: int, cgroup: str) -> None:
    (root / str(pid)).mkdir(parents=True)
    (root / str(pid) / "cgroup").write_text(cgroup)
    (root / str(pid) / "stat").write_text(f"{pid} (py thon) (x) S {ppid} 1 1 0\n")


async def test_listing_and_pid_resolution_over_a_fake_api(tmp_path: Path) -> None:
    blue = _attrs(pid=100)
    other = _attrs(name="nginx", cid=ID_B, project=None, pid=200)
    api = FakeApi([blue, other])
    source = _source(api, tmp_path, compose_project="lab")
    listed = await source.list_containers()
    assert [c.name for c in listed] == ["lab-vllm-blue-1"]
    # cgroup names the container
    _fake_proc(tmp_path, 300, 1, f"0::/libpod_parent/libpod-{ID_A}\n")
    assert source.container_for_pid(300) == "lab-vllm-blue-1"
    # no container in the cgroup: found through the parent chain up to the main PID
    _fake_proc(tmp_path, 100, 1, "0::/\n")
    _fake_proc(tmp_path, 101, 100, "0::/\n")
    _fake_proc(tmp_path, 102, 101, "0::/\n")
    assert source.container_for_pid(102) == "lab-vllm-blue-1"
    # a container outside the stack, and a host process
    _fake_proc(tmp_path, 201, 200, f"0::/docker/{ID_B}\n")
    assert source.container_for_pid(201) is None
    _fake_proc(tmp_path, 400, 1, "0::/user.slice\n")
    assert source.container_for_pid(400) is None
    assert source.container_for_pid(999) is None
    assert source.container_name(ID_A[:12]) == "lab-vllm-blue-1"
    assert source.container_name("") is None


class ListingApi(FakeApi):
    """An engine whose listing carries each container's state and status line, as
    Docker's and podman's do; counts the inspects."""

    inspects = 0

    def containers(self, all: bool = False) -> list[dict[str, Any]]:
        listed = super().containers(all)
        for summary, a in zip(listed, self.all, strict=True):
            summary |= {"State": a["State"]["Status"], "Status": a["State"].get("Text", "Up")}
        return listed

    def inspect_container(self, ref: str) -> dict[str, Any]:
        self.inspects += 1
        return super().inspect_container(ref)


async def test_containers_are_inspected_again_only_when_their_listing_changes(
    tmp_path: Path,
) -> None:
    blue = _attrs()
    api = ListingApi([blue])
    source = _source(api, tmp_path, compose_project="lab")
    for _ in range(5):  # five polls, 5 s apart: the container did not change
        (listed,) = (await source.collect()).containers or ()
        assert listed.state == "running"
    assert api.inspects == 1
    blue["State"] |= {"Status": "exited", "Text": "Exited (1) 1 second ago", "ExitCode": 1}
    (listed,) = (await source.collect()).containers or ()  # it crashed: the listing says so
    assert (listed.state, listed.exit_code, api.inspects) == ("exited", 1, 2)
    source.list_containers_sync()  # what an action reads is always inspected
    assert api.inspects == 3


def test_actions_only_touch_the_stack(tmp_path: Path) -> None:
    api = FakeApi([_attrs(), _attrs(name="nginx", cid=ID_B, project=None)])
    source = _source(api, tmp_path, compose_project="lab")
    assert source.stop("lab-vllm-blue-1", timeout=1) == "exited"
    with pytest.raises(DockerError, match="nginx is not one of the stack's containers"):
        source.stop("nginx", timeout=1)
    with pytest.raises(DockerError, match="no such container"):
        source.stop("$(touch /tmp/x)", timeout=1)
    assert api.calls == [("stop", ID_A)]


def test_find_binary_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(podman.shutil, "which", lambda *a, **k: None)
    with pytest.raises(podman.EngineMissing) as info:
        podman.find_binary("busybox")
    assert str(info.value).startswith(
        "busybox not found: install the Debian package busybox-static"
    )
    with pytest.raises(podman.EngineMissing, match="package podman"):
        podman.PodmanEngine("/tmp/nowhere")


def test_python_binds_cover_python_and_repo(tmp_path: Path) -> None:
    binds = podman.python_binds(tmp_path)
    assert str(tmp_path.resolve()) in binds
    assert binds[0] == "/usr" and len(set(binds)) == len(binds)


def test_rootfs_holds_busybox_and_applets(tmp_path: Path) -> None:
    fake = tmp_path / "busybox"
    fake.write_bytes(b"\x7fELF fake")
    podman._write_rootfs(tmp_path / "rootfs.tar", fake)
    with tarfile.open(tmp_path / "rootfs.tar") as tar:
        names = set(tar.getnames())
        assert {"bin/busybox", "bin/sh", "bin/sleep", "bin/echo", "tmp"} <= names
        assert tar.getmember("bin/sh").linkname == "busybox"
