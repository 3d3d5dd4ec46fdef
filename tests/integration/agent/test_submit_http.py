"""Submission over real HTTP: retries on 5xx and network errors, none on 4xx, exit codes."""

from __future__ import annotations

import json
import socket
import threading

from arrow_agent import cli

KEY = "integration-service-key"
FAST = ["--retry-initial", "0.01", "--retry-max", "0.05", "--request-timeout", "5"]


def submit(capsys, machine, url: str, *extra: str, environ=None) -> tuple[int, str, str]:
    argv = ["collect", "--root", str(machine.path), "--server", url, "--after", "none", *FAST]
    code = cli.main([*argv, *extra], environ={"DEVICE_LOOKUP_API_KEY": KEY} | (environ or {}))
    out, err = capsys.readouterr()
    return code, out, err


def test_two_503s_then_200_is_retried_and_accepted(capsys, machine, backend):
    server = backend([503, 503, 200])
    code, out, err = submit(capsys, machine, server.url)
    assert code == 0
    assert len(server.requests) == 3
    assert {r["path"] for r in server.requests} == {"/api/inventory/submit"}
    assert all(r["headers"]["X-Service-Api-Key"] == KEY for r in server.requests)
    assert all("X-Inventory-Token" not in r["headers"] for r in server.requests)
    body = server.requests[-1]["body"]
    assert body["inventory_data"]["serial_number"] == "BTTN20900ABC"
    assert all(r["body"] == body for r in server.requests)
    assert json.loads(out) == {
        "device_id": "7f1c2a9e",
        "status": "newly_inventoried",
        "device_spec": "Intel NUC 11 Pro",
        "organization": "Lab North",
        "imaging_status": "ready_for_imaging",
    }
    attempts = [line for line in err.splitlines() if line.startswith("submit attempt")]
    assert [line.split(": ", 1)[1].split(";")[0] for line in attempts] == [
        'HTTP 503 Service Unavailable: {"code": "invalid", "field": "mac_address[0]"}',
        'HTTP 503 Service Unavailable: {"code": "invalid", "field": "mac_address[0]"}',
        "HTTP 200, accepted",
    ]
    assert "accepted: device_id 7f1c2a9e, status newly_inventoried" in err
    assert KEY not in out + err


def test_400_is_not_retried_and_exits_3(capsys, machine, backend):
    server = backend([400, 200])
    code, out, err = submit(capsys, machine, server.url)
    assert (code, out) == (3, "")
    assert len(server.requests) == 1
    assert "HTTP 400 Bad Request" in err
    assert "not retrying" in err
    assert "check: the backend's submission journal names the refused field" in err


def test_401_points_at_the_key(capsys, machine, backend):
    code, _, err = submit(capsys, machine, backend([401]).url)
    assert code == 3
    assert "check: the service key must equal the backend's DEVICE_LOOKUP_API_KEY" in err


def test_redirect_is_not_followed_as_a_get(capsys, machine, backend):
    server = backend([302])
    code, _, err = submit(capsys, machine, server.url)
    assert code == 3
    assert len(server.requests) == 1
    assert "redirected to https://arrow.example/api/inventory/submit" in err


def test_5xx_until_the_deadline_gives_up_with_exit_4(capsys, machine, backend):
    server = backend([503])
    code, _, err = submit(capsys, machine, server.url, "--deadline", "0.3")
    assert code == 4
    assert len(server.requests) >= 2
    assert "giving up (deadline)" in err
    assert "check: the network (link, DHCP, route)" in err


def test_nobody_listening_is_retried_then_gives_up(capsys, machine):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, _, err = submit(capsys, machine, f"http://127.0.0.1:{port}", "--deadline", "0.2")
    assert code == 4
    assert "ConnectionRefusedError" in err


def test_a_per_boot_token_replaces_the_service_key(capsys, machine, backend):
    server = backend([200])
    code, out, err = submit(capsys, machine, server.url, environ={"ARROW_TOKEN": "boot-token-1"})
    assert code == 0
    headers = server.requests[0]["headers"]
    assert headers["X-Inventory-Token"] == "boot-token-1"
    assert "X-Service-Api-Key" not in headers
    assert "boot-token-1" not in out + err


def test_after_success_the_device_reboots_through_sysrq(capsys, machine, backend):
    server = backend([200])
    argv = ["collect", "--root", str(machine.path), "--server", server.url, "--after", "reboot"]
    assert cli.main(argv, environ={"DEVICE_LOOKUP_API_KEY": KEY}) == 0
    assert (machine.path / "proc/sysrq-trigger").read_text() == "b"
    assert "after: reboot" in capsys.readouterr().err


def test_a_server_answering_garbage_is_retried_like_a_network_error(capsys, machine):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.05)
    stop = threading.Event()
    answered = []

    def answer_garbage() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.recv(65536)
                connection.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
                answered.append(1)

    thread = threading.Thread(target=answer_garbage, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        code, _, err = submit(capsys, machine, url, "--deadline", "0.2")
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
    assert code == 4
    assert len(answered) >= 2
    assert "BadStatusLine" in err
