"""Config errors name FILE:LINE and say what is wrong; good configs load typed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.config import THEME_NAMES, ConfigError, load_config, parse_config

EXAMPLE = Path(__file__).parents[2] / "tui" / "data" / "example.yaml"


def test_shipped_example_is_valid_and_documents_every_key() -> None:
    config = load_config(EXAMPLE)
    assert config.environment == "production"
    assert config.backends and all(b.url.startswith("http") for b in config.backends)
    assert config.scrape.gpu_exporters
    assert config.sources.prometheus is not None and config.sources.prometheus.url.endswith(":9090")
    assert config.sources.docker is not None and config.sources.docker.name_patterns == ("vllm-*",)
    text = EXAMPLE.read_text()
    for key in (
        "environment",
        "slo_tier",
        "refresh_s",
        "theme",
        "history_points",
        "read_only",
        "backends",
        "sources",
        "scrape",
        "interval_s",
        "window_s",
        "timeout_s",
        "gpu_exporters",
        "token_env",
        "token_file",
        "keys",
        "traffic", "router", "stable_pool", "canary_pool", "rollout_steps", "rollout_hold_s",
        "upstream_file", "upstream_name", "servers", "binary", "conf", "prefix", "verify_url",
        "state_dir", "audit_log", "runbooks_dir",
    ):  # fmt: skip
        line = next(
            line
            for line in text.splitlines()
            if line.lstrip().startswith(f"{key}:")
            or line.lstrip().startswith(f"# {key}:")
            or line.lstrip().startswith(f"- {key}:")
        )
        assert "#" in line, f"{key} has no comment in example.yaml"


def test_good_config_is_typed() -> None:
    config = parse_config(
        "environment: prod\nslo_tier: Premium\nrefresh_s: 2\nbackends:\n"
        "  - {name: b0, pool: blue, url: 'http://10.0.0.1:8000/'}\n",
        "c.yaml",
    )
    assert config.slo_tier == "premium"
    assert config.refresh_s == 2.0
    assert config.backends[0].url == "http://10.0.0.1:8000"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("environment: x\nbogus: 1\n", "c.yaml:2: unknown key 'bogus' in the config"),
        (
            "sources:\n  prometheus:\n    interval_s: 5\n",
            "c.yaml:3: sources.prometheus needs 'url'",
        ),
        ("traffic:\n  router: haproxy\n", "c.yaml:2: router must be nginx or sim"),
        ("traffic:\n  router: nginx\n", "c.yaml:2: traffic.router nginx needs a traffic.nginx"),
        ("traffic:\n  rollout_steps: [50, 10]\n", "c.yaml:2: rollout_steps rise to at most 100"),
        ("sources:\n  docker:\n    url: tcp:/x\n", "c.yaml:3: 'url' must be an http(s) URL"),
        (
            "sources:\n  alertmanager: {url: 'http://h:9093', verify_tls: 1}\n",
            "c.yaml:2: 'verify_tls' must be a bool",
        ),
        ("refresh_s: fast\n", "c.yaml:1: 'refresh_s' must be a float, not str 'fast'"),
        ("refresh_s: -1\n", "c.yaml:1: 'refresh_s' must be greater than 0"),
        ("slo_tier: gold\n", "c.yaml:1: slo_tier must be one of"),
        (
            "backends:\n  - name: a\n    pool: blue\n    url: ftp://x\n",
            "c.yaml:4: 'url' must be an http(s) URL",
        ),
        ("backends:\n  - name: a\n    pool: blue\n", "c.yaml:2: a backend needs 'url'"),
        (
            "backends:\n  - {name: a, pool: b, url: 'http://h:1'}\n  - {name: a, pool: b, url: 'http://h:2'}\n",
            "c.yaml:3: backend name 'a' is used twice",
        ),
        (
            "backends:\n  - {name: a, pool: b, url: 'http://h:1', token: s3cret}\n",
            "c.yaml:2: tokens are not kept in the config file",
        ),
        (
            "backends:\n  - {name: a, pool: b, url: 'http://h:1', token_env: T, token_file: f}\n",
            "c.yaml:2: backend 'a': give token_env or token_file, not both",
        ),
        ("environment: [unclosed\n", "c.yaml:2: not valid YAML"),
        ("read_only: maybe\n", "c.yaml:1: 'read_only' must be a bool"),
        (
            "sources:\n  scrape:\n    gpu_exporters: http://h/metrics\n",
            "c.yaml:3: 'gpu_exporters' must be a list",
        ),
    ],
)
def test_errors_name_file_and_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.yaml")
    assert str(info.value).startswith(expected), str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "absent.yaml")


def test_token_comes_from_environment_or_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "token"
    secret.write_text("from-file\n")
    monkeypatch.setenv("TOK", "from-env")  # checked when the config is loaded
    config = parse_config(
        f"backends:\n  - {{name: a, pool: p, url: 'http://h:1', token_env: TOK}}\n"
        f"  - {{name: b, pool: p, url: 'http://h:2', token_file: '{secret}'}}\n"
        "  - {name: c, pool: p, url: 'http://h:3'}\n"
    )
    a, b, c = (backend.credentials for backend in config.backends)
    assert a is not None and a.bearer_token() == "from-env"
    assert b is not None and b.bearer_token() == "from-file"
    assert c is None
    monkeypatch.setenv("TOK", "rotated")  # and read again at each request
    assert a.bearer_token() == "rotated"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_is_a_config_or_a_config_error(text: str) -> None:
    try:
        parse_config(text, "fuzz.yaml")
    except ConfigError as exc:
        assert str(exc).startswith("fuzz.yaml:")


def test_theme_names_are_the_shipped_themes() -> None:
    from themes import THEMES  # imports Textual; tui.config must not, so it keeps a copy

    assert tuple(t.name for t in THEMES) == THEME_NAMES


def test_unknown_theme_lists_the_valid_names() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config("environment: x\ntheme: no-such-theme\n", "c.yaml")
    assert str(info.value) == (
        "c.yaml:2: unknown theme 'no-such-theme'; choose one of "
        "inferdeck-dark, inferdeck-light, inferdeck-high-contrast, inferdeck-colorblind, "
        "inferdeck-mono"
    )
    assert parse_config("theme: inferdeck-light\n").theme == "inferdeck-light"


def test_keys_remember_their_lines() -> None:
    config = parse_config("environment: x\nkeys:\n  pause: space\n  quit: ctrl+q\n", "c.yaml")
    assert dict(config.keys) == {"pause": "space", "quit": "ctrl+q"}
    assert dict(config.key_lines) == {"pause": "c.yaml:3", "quit": "c.yaml:4"}


def test_runbooks_dir_must_exist_beside_the_config(tmp_path: Path) -> None:
    (tmp_path / "books").mkdir()
    config_file = tmp_path / "c.yaml"
    config_file.write_text("environment: x\nrunbooks_dir: books\n")
    assert load_config(config_file).runbooks_dir == "books"
    config_file.write_text("environment: x\nrunbooks_dir: no-books\n")
    with pytest.raises(ConfigError) as info:
        load_config(config_file)
    assert str(info.value) == (
        f"{config_file}:2: runbooks_dir {tmp_path / 'no-books'} does not exist or is not a folder"
    )


def test_state_dir_that_is_a_file_or_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    fine = tmp_path / "new" / "state"
    assert parse_config(f"state_dir: {fine}\n").state_dir == str(fine)
    assert not fine.exists()  # checking creates nothing
    with pytest.raises(ConfigError) as info:
        parse_config(f"environment: x\nstate_dir: {tmp_path / 'a-file'}\n", "c.yaml")
    assert str(info.value) == f"c.yaml:2: state_dir {tmp_path / 'a-file'} is a file, not a folder"
    with pytest.raises(ConfigError) as info:
        parse_config(f"state_dir: {tmp_path / 'a-file' / 'inferdeck'}\n", "c.yaml")
    assert str(info.value) == (
        f"c.yaml:1: state_dir {tmp_path / 'a-file' / 'inferdeck'} cannot be created:"
        f" {tmp_path / 'a-file'} is a file"
    )
    if os.geteuid() != 0:  # root may write anywhere
        with pytest.raises(ConfigError) as info:
            parse_config(f"state_dir: {locked / 'inferdeck'}\n", "c.yaml")
        assert str(info.value) == (
            f"c.yaml:1: state_dir {locked / 'inferdeck'} cannot be created:"
            f" {locked} is not writable"
        )


def test_backends_sharing_a_url_are_refused_naming_both() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(
            "backends:\n"
            "  - {name: a, pool: blue, url: 'http://h:8000'}\n"
            "  - {name: b, pool: blue, url: 'http://h:8001'}\n"
            "  - {name: c, pool: green, url: 'http://H:8000/'}\n",
            "c.yaml",
        )
    assert str(info.value) == (
        "c.yaml:4: backends 'c' and 'a' have the same url http://H:8000;"
        " each backend is one server with its own url"
    )


def test_a_backend_may_name_its_engine_and_a_wrong_one_is_an_error_at_its_line() -> None:
    config = parse_config(
        "backends:\n  - {name: b0, pool: blue, url: 'http://h:8000', engine: SGLang}\n", "c.yaml"
    )
    assert config.backends[0].engine == "sglang"
    with pytest.raises(ConfigError) as info:
        parse_config("backends:\n  - name: b0\n    pool: blue\n    url: http://h:1\n"
                     "    engine: ollama\n", "c.yaml")  # fmt: skip
    assert str(info.value).startswith("c.yaml:5: unknown engine 'ollama'")
