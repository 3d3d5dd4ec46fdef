"""The agent reports that it runs before it collects: one short try that never stops it."""

from __future__ import annotations

from tests.integration.agent.test_submit_http import submit

TOKEN = {"ARROW_TOKEN": "boot-token-1"}


def test_with_a_token_the_agent_says_started_then_submits(capsys, machine, backend):
    server = backend([200])
    code, _, err = submit(capsys, machine, server.url, environ=TOKEN)
    assert code == 0, err
    paths = [r["path"] for r in server.requests]
    assert paths == ["/api/inventory/started", "/api/inventory/submit"]
    assert server.requests[0]["headers"]["X-Inventory-Token"] == "boot-token-1"
    assert server.requests[0]["body"] == {}


def test_a_failed_started_call_is_one_line_and_the_inventory_goes_on(capsys, machine, backend):
    server = backend([500, 200])  # the started call gets the 500, the submission the 200
    code, _, err = submit(capsys, machine, server.url, environ=TOKEN)
    assert code == 0, err
    assert [r["path"] for r in server.requests][-1] == "/api/inventory/submit"
    assert "started: not reported (HTTP 500" in err
    assert "boot-token-1" not in err


def test_an_unreachable_backend_for_started_does_not_stop_collection(capsys, machine):
    code, _, err = submit(capsys, machine, "http://127.0.0.1:9", "--deadline", "0.2", environ=TOKEN)
    assert "started: not reported" in err
    assert "dmi: serial" in err  # collection ran
    assert code == 4  # then the submission gave up, as without the started call
