"""`contexts:` in the config: several environments, each with its own backends, sources,
traffic and read_only; `--context NAME` picks one."""

from __future__ import annotations

import pytest

from tui.config import ConfigError, context_of, parse_config

CONFIG = """\
theme: inferdeck-light
keys:
  pause: space
backends:
  - {name: local-0, pool: blue, url: "http://127.0.0.1:9000"}
contexts:
  prod-us:
    production: true
    backends:
      - {name: us-0, pool: blue, url: "http://10.0.0.1:8000"}
  prod-eu:
    environment: eu-west
    read_only: true
    backends:
      - {name: eu-0, pool: blue, url: "http://10.1.0.1:8000"}
  staging: {}
"""


def test_each_context_has_its_own_backends_and_shares_the_rest() -> None:
    config = parse_config(CONFIG, "c.yaml")
    assert list(config.contexts) == ["prod-us", "prod-eu", "staging"]
    us, eu, staging = config.contexts.values()
    assert [b.name for b in us.backends] == ["us-0"] and us.production and not us.read_only
    assert [b.name for b in eu.backends] == ["eu-0"] and eu.read_only and not eu.production
    assert [b.name for b in staging.backends] == ["local-0"]  # the top level's
    assert (us.environment, eu.environment, staging.environment) == ("prod-us", "eu-west",
                                                                     "staging")  # fmt: skip
    assert {c.theme for c in config.contexts.values()} == {"inferdeck-light"}
    assert all(c.keys == {"pause": "space"} for c in config.contexts.values())


def test_context_of_picks_by_name_and_keeps_the_others_for_switching() -> None:
    config = parse_config(CONFIG, "c.yaml")
    eu = context_of(config, "prod-eu")
    assert eu.context == "prod-eu" and list(eu.contexts) == ["prod-us", "prod-eu", "staging"]
    assert context_of(config, None).context == "prod-us"  # the first, without --context
    with pytest.raises(ConfigError, match=r"^c.yaml:1: no context 'prod-ap' \(the config has: "
                                          r"prod-us, prod-eu, staging\)$"):  # fmt: skip
        context_of(config, "prod-ap")


@pytest.mark.parametrize(("text", "message"), [
    (CONFIG.replace("  staging: {}", "  staging:\n    theme: inferdeck-dark"),
     "c.yaml:17: 'theme' cannot differ per context"),
    (CONFIG.replace("    production: true", "    production: maybe"), "c.yaml:8: "),
    (CONFIG.replace("  staging: {}", "  staging: [1]"), "c.yaml:16: context 'staging' must be"),
    ("contexts: []\n", "c.yaml:1: 'contexts' must map names to settings"),
])  # fmt: skip
def test_bad_contexts_are_file_line_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "c.yaml")
    assert str(caught.value).startswith(message), caught.value
