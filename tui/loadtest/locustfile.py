"""The Locust side of a load test: one user class that streams OpenAI-compatible
requests, and a ``LoadTestShape`` that follows the scenario's stages.

Runs only inside the Locust child process (`tui.loadtest.run` starts it): importing
Locust patches the standard library for gevent, which the dashboard's process must never
see. Its settings come in ``$INFERDECK_LOADTEST`` (JSON); every request is written as
one JSON line to the records file, and also fired as a Locust request event so Locust's
own statistics see the same requests.

Master and workers (``--master``/``--worker``, load spread over processes or machines):
the master runs the shape and writes the records file; each worker sends the records of
its requests to the master as Locust messages (`RECORDS`), so a worker on another
machine needs no shared file, and the master tells the workers when the shape's clock
started (`STARTED`) so their rate pacing follows the same stages.

Client-side figures: TTFT is the time to the first chunk that carries text; ITL is the
mean gap between the following text chunks of one request; E2E is the whole request.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from locust import HttpUser, LoadTestShape, events, task
from locust.runners import MasterRunner, WorkerRunner

from tui.loadtest.shape import steps_of, target_at, users_for

SETTINGS: dict[str, Any] = json.loads(os.environ.get("INFERDECK_LOADTEST", "{}") or "{}")
SCENARIO: dict[str, Any] = SETTINGS.get("scenario", {"load": "users", "stages": []})
STEPS = steps_of(SCENARIO["stages"])
PER_USER_RPS = float(SETTINGS.get("per_user_rps", 1.0))
WORDS = ("the", "red", "fox", "ran", "far", "and", "saw", "sun", "set", "low")
"""Prompt filler: three letters and a space, about one token each (and exactly one by
the simulator's four-characters-a-token count)."""

RECORDS = "inferdeck-records"
"""The Locust message a worker sends its finished requests in (a list of records)."""
STARTED = "inferdeck-started"
"""The Locust message the master sends its workers: when the shape's clock started."""

_started = [0.0]
_workers = [1]  # how many workers share the users (the master says; 1 standalone)
_records: list[Any] = []
_worker: list[Any] = []  # the WorkerRunner, in a worker process


@events.init.add_listener
def _roles(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        runner.register_message(RECORDS, _from_worker)
    elif isinstance(runner, WorkerRunner):
        _worker.append(runner)
        runner.register_message(STARTED, _clock_from_master)


def _from_worker(msg: Any, **_: Any) -> None:
    """Master: write the records a worker sent (Locust passes ``msg`` by keyword)."""
    for entry in msg.data:
        _write(entry)


def _clock_from_master(msg: Any, **_: Any) -> None:
    """Worker: the shape's clock started when the master says."""
    _started[0] = float(msg.data["started"])
    _workers[0] = max(1, int(msg.data.get("workers", 1)))


@events.test_start.add_listener
def _open(environment: Any, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return  # the master keeps the clock and the file
    _started[0] = time.time()
    path = SETTINGS.get("records")
    if path:
        _records.append(open(path, "a", buffering=1, encoding="utf-8"))  # noqa: SIM115
    _record({"started": _started[0]})  # the moment the shape's clock starts
    if isinstance(environment.runner, MasterRunner):
        environment.runner.send_message(
            STARTED, {"started": _started[0], "workers": environment.runner.worker_count}
        )


@events.quitting.add_listener
def _close(environment: Any, **_: Any) -> None:
    for handle in _records:
        handle.close()


def _elapsed() -> float:
    return time.time() - (_started[0] or time.time())


def _record(entry: dict[str, Any]) -> None:
    """Keep one record: in the file (standalone, master), or sent to the master."""
    if _worker:
        _worker[0].send_message(RECORDS, [entry])
    else:
        _write(entry)


def _write(entry: dict[str, Any]) -> None:
    for handle in _records:
        handle.write(json.dumps(entry, separators=(",", ":")) + "\n")


def _prompt(tokens: int) -> str:
    return " ".join(WORDS[i % len(WORDS)] for i in range(tokens))


class StreamingClient(HttpUser):
    """One simulated client: sends a streaming completion, reads it to the end, again."""

    host = SETTINGS.get("target", "http://127.0.0.1")

    def wait_time(self) -> float:
        """``users``: none (a closed loop); ``rate``: pace so that all users together
        send the shape's current requests per second."""
        if SCENARIO.get("load") != "rate":
            return 0.0
        rate = target_at(STEPS, _elapsed()) or 0.0
        if rate <= 0:
            return 1.0
        runner = self.environment.runner
        # all the run's users: Locust spreads them evenly over the workers
        users = max(1, (runner.user_count if runner is not None else 1) * _workers[0])
        interval = users / rate
        spent = time.time() - getattr(self, "_last_start", 0.0)
        return max(0.0, interval - spent)

    @task
    def stream_one(self) -> None:
        """One streamed request, timed from the client's side."""
        self._last_start = time.time()
        request = SCENARIO["request"]
        chat = request.get("endpoint", "chat") == "chat"
        body: dict[str, Any] = {
            "model": SETTINGS.get("model", ""),
            "max_tokens": int(request["output_tokens"]),
            "stream": True,
            "stream_options": {"include_usage": True},
            "ignore_eos": True,
        }
        prompt = _prompt(int(request["prompt_tokens"]))
        if chat:
            body["messages"] = [{"role": "user", "content": prompt}]
        else:
            body["prompt"] = prompt
        path = "/v1/chat/completions" if chat else "/v1/completions"
        began = time.perf_counter()
        offset = _elapsed()
        entry: dict[str, Any] = {"t": round(offset, 4), "ok": False, "kind": "", "status": 0}
        first: float | None = None
        last: float | None = None
        tokens, usage_tokens, done = 0, None, False
        try:
            with self.client.post(
                path, json=body, stream=True, catch_response=True, name=path,
                timeout=float(SETTINGS.get("request_timeout_s", 60.0)),
            ) as response:  # fmt: skip
                entry["status"] = response.status_code
                if response.status_code != 200:
                    entry["kind"] = f"http_{response.status_code}"
                    response.failure(entry["kind"])
                else:
                    for line in response.iter_lines():
                        if not line or not line.startswith(b"data:"):
                            continue
                        data = line[5:].strip()
                        if data == b"[DONE]":
                            done = True
                            break
                        chunk = json.loads(data)
                        if chunk.get("usage"):
                            usage_tokens = chunk["usage"].get("completion_tokens")
                        for choice in chunk.get("choices") or ():
                            text = choice.get("text") or (choice.get("delta") or {}).get("content")
                            if text:
                                now = time.perf_counter()
                                first = first if first is not None else now
                                last = now
                                tokens += 1
                    if not done:
                        entry["kind"] = "incomplete"
                        response.failure("stream ended before [DONE]")
                    elif first is None:
                        entry["kind"] = "empty"
                        response.failure("no token came back")
                    else:
                        entry["ok"] = True
                        response.success()
        except Exception as exc:  # every failure is an error of some kind
            name = type(exc).__name__.lower()
            entry["kind"] = (
                "timeout"
                if "timeout" in name
                else ("connection" if "connect" in name else f"client_{type(exc).__name__}")
            )
        end = time.perf_counter()
        entry["e2e"] = round(end - began, 6)
        entry["end"] = round(offset + end - began, 4)
        out = usage_tokens if isinstance(usage_tokens, int) else tokens
        entry["out"] = out
        if first is not None:
            entry["ttft"] = round(first - began, 6)
            if last is not None and tokens > 1:
                entry["itl"] = round((last - first) / (tokens - 1), 6)
        _record(entry)


class ScenarioShape(LoadTestShape):
    """The scenario's stages, second by second; None at the end stops the run."""

    use_common_options = True

    def tick(self) -> tuple[int, float] | None:
        """Users now, and how fast to get there (at once: the stages ramp themselves)."""
        target = target_at(STEPS, self.get_run_time())
        if target is None:
            return None
        users = users_for(SCENARIO.get("load", "users"), target, PER_USER_RPS)
        return users, float(max(users, 1) * 10)
