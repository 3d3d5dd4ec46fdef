"""Settings: kernel command line, then environment, then flags; secrets never shown."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from arrow_agent.config import SOURCES, Config, ConfigError, from_env, parse_cmdline, resolve

KEY = "s3cr3t-service-key"
TOKEN = "per-boot-token-123"


def test_kernel_command_line_settings_are_read_and_the_rest_ignored():
    cmdline = (
        "BOOT_IMAGE=/vmlinuz quiet arrow.server=http://10.0.0.5:8000 arrow.key=K1 "
        "arrow.prefix=LAB arrow.after=none arrow.deadline=120 arrow.modem_wait=5 "
        'arrow.unknown=x "arrow.token=T 1" ip=dhcp\n'
    )
    assert parse_cmdline(cmdline) == {
        "server": "http://10.0.0.5:8000",
        "key": "K1",
        "prefix": "LAB",
        "after": "none",
        "deadline": "120",
        "modem_wait": "5",
        "token": "T 1",
    }


def test_unbalanced_quote_on_the_command_line_falls_back_to_blanks():
    assert parse_cmdline('root="/dev/sda arrow.server=http://a') == {"server": "http://a"}


def test_environment_names():
    environ = {
        "ARROW_SERVER": "http://e",
        "ARROW_TOKEN": "T",
        "DEVICE_LOOKUP_API_KEY": "K",
        "ARROW_PREFIX": "P",
        "ARROW_AFTER": "poweroff",
        "ARROW_DEADLINE": "9",
        "ARROW_MODEM_WAIT": "1",
        "HOME": "/root",
    }
    assert from_env(environ) == {
        "server": "http://e",
        "token": "T",
        "key": "K",
        "prefix": "P",
        "after": "poweroff",
        "deadline": "9",
        "modem_wait": "1",
    }


@pytest.mark.parametrize(
    ("cmdline", "env", "flags", "server", "origin"),
    [
        ({}, {}, {}, None, None),
        ({"server": "http://cmdline"}, {}, {}, "http://cmdline", "cmdline"),
        ({"server": "http://cmdline"}, {"server": "http://env"}, {}, "http://env", "env"),
        (
            {"server": "http://cmdline"},
            {"server": "http://env"},
            {"server": "http://flag"},
            "http://flag",
            "flag",
        ),
        ({"server": "http://cmdline"}, {}, {"server": None}, "http://cmdline", "cmdline"),
    ],
    ids=[
        "nothing set",
        "kernel command line",
        "environment overrides command line",
        "flag overrides environment",
        "an absent flag overrides nothing",
    ],
)
def test_precedence_flags_over_env_over_cmdline(cmdline, env, flags, server, origin):
    config = resolve(cmdline=cmdline, env=env, flags=flags)
    assert config.server == server
    assert config.origin.get("server") == origin


def test_defaults():
    config = resolve(cmdline={}, env={}, flags={})
    assert (config.prefix, config.after, config.deadline, config.modem_wait) == (
        "PVE",
        "reboot",
        600.0,
        30.0,
    )
    assert config.auth_headers() == {}


def test_numbers_are_parsed():
    config = resolve(cmdline={"deadline": "90"}, env={"modem_wait": "2.5"}, flags={})
    assert (config.deadline, config.modem_wait) == (90.0, 2.5)


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("server", "10.0.0.5:8000", "server (from cmdline) must be an http:// or https:// URL"),
        ("server", "ftp://x", "must be an http:// or https:// URL"),
        ("server", "http://10.0.0.5:abc", "server (from cmdline) has no usable port"),
        ("server", "http://10.0.0.5:99999", "has no usable port (a number up to 65535)"),
        ("prefix", "-PVE", "prefix (from cmdline) must be 1-20 letters, digits or hyphens"),
        ("prefix", "P V E", "must be 1-20 letters"),
        ("prefix", "", "must be 1-20 letters"),
        ("after", "halt", "after (from cmdline) must be one of reboot, poweroff, none"),
        ("deadline", "soon", "deadline (from cmdline) must be a number of seconds"),
        ("deadline", "-1", "must be a number of seconds"),
        ("modem_wait", "nan", "must be a number of seconds"),
        ("modem_wait", "inf", "must be a number of seconds"),
    ],
)
def test_unusable_values_are_refused_with_their_source(setting, value, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        resolve(cmdline={setting: value}, env={}, flags={})


def test_an_https_server_is_refused_at_start_where_python_has_no_tls(monkeypatch):
    """The inventory image leaves ssl out; an https:// server would fail every attempt."""
    assert resolve(cmdline={"server": "https://arrow.example"}, env={}, flags={}).server
    monkeypatch.setitem(sys.modules, "ssl", None)  # what ``import ssl`` meets in the image
    with pytest.raises(ConfigError, match=re.escape("server (from cmdline) is an https:// URL")):
        resolve(cmdline={"server": "https://arrow.example"}, env={}, flags={})
    assert resolve(cmdline={"server": "http://10.0.2.100"}, env={}, flags={}).server


def test_token_wins_over_key_and_empty_token_means_none():
    both = resolve(cmdline={"key": KEY}, env={"token": TOKEN}, flags={})
    assert both.auth_headers() == {"X-Inventory-Token": TOKEN}
    empty = resolve(cmdline={"key": KEY, "token": ""}, env={}, flags={})
    assert empty.auth_headers() == {"X-Service-Api-Key": KEY}


def test_secrets_appear_neither_in_repr_nor_in_the_description():
    config = resolve(cmdline={"key": KEY, "server": "http://s"}, env={"token": TOKEN}, flags={})
    shown = repr(config) + config.describe() + str(config)
    assert KEY not in shown
    assert TOKEN not in shown
    assert "auth per-boot token (env)" in config.describe()


def test_submit_url_joins_the_api_path_once():
    assert Config(server="http://h:8000/").submit_url == "http://h:8000/api/inventory/submit"
    assert Config(server="http://h/arrow").submit_url == "http://h/arrow/api/inventory/submit"


def test_the_documented_defaults_are_the_agents_own():
    """docs/agent.md's settings table, read row by row against Config's defaults."""
    text = (Path(__file__).resolve().parents[3] / "docs" / "agent.md").read_text()
    defaults = Config()
    for setting, (cmdline_key, _) in SOURCES.items():
        rows = [line for line in text.splitlines() if line.startswith("|")]
        row = next(line for line in rows if f"`{cmdline_key}=" in line)
        documented = row.rstrip(" |").rsplit("|", 1)[1].strip()
        value = getattr(defaults, setting)
        if value is None:
            assert documented.startswith("none"), row
        else:
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            assert documented == f"`{shown}`", row
