"""The load generator of the mass-boot benchmark, run as its own process by bench/run.py.

    DEVICE_LOOKUP_API_KEY=KEY BENCH_TOKEN=TOKEN python -m bench.load --url http://127.0.0.1:8600 \
        --devices devices.json --concurrency 100 --out load.json

Plays the rack in four stages, each with *concurrency* requests in flight (a closed loop):
seed (an operator quick-adds a quarter of the devices and files device requests for another
quarter, through the admin API), boot (every device asks check-mac, then walks the network boot
as iPXE and the agent do: the boot script, the kernel and initrd progress reports, the agent's
"started" call), inventory (every device submits, with the per-boot token the script gave it),
reboot (a share of the devices boots again, asks check-mac and submits again). Checks each answer
against what the device should get and records every request: stage, endpoint, HTTP status,
latency, SQL statements (the X-Arrow-Queries header, when the server sends it).

Why a hand-written asyncio client and not httpx or locust: on this 2-core machine the generator
shares the cores with the server it measures, so its cost per request must stay small. Measured
here against gunicorn: httpx's AsyncClient spent 1.8-2.0 ms of CPU per request, this client 0.21
ms (one TCP connection per request, as gunicorn's sync workers close each one). It does no retries:
a failure is a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import time
from urllib.parse import urlsplit

from bench.devices import ORG

TIMEOUT = 30.0
TOKEN = re.compile(r"arrow\.token=(\S+)")
PROGRESS = re.compile(r"imgfetch --name arrow-progress (\S+)")


class Client:
    def __init__(self, url: str, key: str, token: str):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.key, self.token = key, token
        self.records: list[list] = []

    async def call(
        self, stage: str, endpoint: str, body: dict, *, admin: bool = False, boot_token: str = ""
    ):
        """POSTs *body* as JSON; returns (status, decoded JSON or None); records the request.
        Authenticated by the admin token, the per-boot token when given, else the service key."""
        if admin:
            auth = f"Authorization: Bearer {self.token}"
        elif boot_token:
            auth = f"X-Inventory-Token: {boot_token}"
        else:
            auth = f"X-Service-Api-Key: {self.key}"
        return await self.send(stage, endpoint, "POST", json.dumps(body).encode(), auth)

    async def get(self, stage: str, url: str):
        """GETs *url* (a path, or a URL on this server) as iPXE does: no credentials; returns
        (status, the body as text, error)."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        endpoint = parts.path
        return await self.send(stage, endpoint, "GET", None, "", target=path)

    async def send(self, stage, endpoint, method, payload, auth, *, target=None):
        """One request on its own connection; records it; (status, data, error)."""
        lines = [f"{method} {target or endpoint} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if payload is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        lines += [auth] if auth else []
        lines += ["User-Agent: arrow-bench", "Connection: close", "", ""]
        started = time.perf_counter()
        status, queries, data, error = 0, None, None, ""
        writer = None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), TIMEOUT
            )
            writer.write("\r\n".join(lines).encode() + (payload or b""))
            status, headers, content = await asyncio.wait_for(self.answer(reader), TIMEOUT)
            queries = int(headers["x-arrow-queries"]) if "x-arrow-queries" in headers else None
            data = content.decode() if method == "GET" else json.loads(content or b"null")
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:200]
        finally:
            if writer is not None:
                writer.close()
        latency = time.perf_counter() - started
        self.records.append([stage, endpoint, status, latency, queries, error])
        return status, data, error

    @staticmethod
    async def answer(reader) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body of an answer (the body up to its length, else to the end)."""
        raw_head = await reader.readuntil(b"\r\n\r\n")
        lines = raw_head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            content = await reader.readexactly(int(headers["content-length"]))
        else:
            content = await reader.read()
        return int(lines[0].split(" ", 2)[1]), headers, content


class Rack:
    """The simulated devices and what each should be told; collects every wrong answer."""

    def __init__(self, client: Client, devices: list[dict], concurrency: int):
        self.client = client
        self.devices = devices
        self.concurrency = concurrency
        self.wrong: list[str] = []
        self.stages: dict[str, dict] = {}
        self.quick_ids: dict[int, str] = {}
        self.device_ids: dict[int, str] = {}
        self.submissions: list[int] = []
        self.first_submissions: list[int] = []
        self.statuses: dict[int, str] = {}
        self.boot_tokens: dict[int, str] = {}

    def expect(self, device: dict, what: str, ok: bool, got) -> None:
        if not ok:
            self.wrong.append(f"device {device['index']} {what}: got {str(got)[:300]}")

    async def stage(self, name: str, items: list[dict], action) -> None:
        queue = list(reversed(items))

        async def worker():
            while queue:
                await action(queue.pop())

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(items) or 1))))
        self.stages[name] = {"seconds": time.perf_counter() - started, "items": len(items)}

    async def seed(self, device: dict) -> None:
        if device["prereg"] == "quick_add":
            body = {"mac_address": device["prereg_mac"], "organization": ORG}
            status, data, _ = await self.client.call(
                "seed", "/api/devices/quick-add", body, admin=True
            )
            self.expect(device, "quick-add", status == 201, (status, data))
            if status == 201:
                self.quick_ids[device["index"]] = data["id"]
        else:
            body = {"organization": ORG, "target_macs": [device["prereg_mac"]]}
            if device["expect_spec"]:
                body["spec"] = device["expect_spec"]
            status, data, _ = await self.client.call("seed", "/api/requests", body, admin=True)
            self.expect(device, "device request", status == 201, (status, data))

    async def boot(self, device: dict) -> None:
        body = {"mac_address": device["boot_mac"]}
        status, data, _ = await self.client.call("boot", "/api/inventory/check-mac", body)
        known = device["prereg"] == "quick_add" and device["prereg_mac"] == device["boot_mac"]
        want = {
            "needs_inventory": True,  # discovery is on: a new rack is being onboarded
            "device_id": self.quick_ids.get(device["index"]) if known else None,
            "organization": ORG if known or device["prereg"] == "request" else None,
        }
        self.expect(device, "first check-mac", status == 200 and data == want, (status, data))
        await self.netboot(device)

    async def netboot(self, device: dict) -> None:
        """The boot script (it names a token and two progress URLs), the kernel and initrd
        progress reports iPXE makes, and the agent's "started" call with the token."""
        status, script, _ = await self.client.get(
            "boot", f"/pxe/boot.ipxe?mac={device['boot_mac']}"
        )
        token = TOKEN.search(script or "")
        progress = list(dict.fromkeys(PROGRESS.findall(script or "")))  # the retries repeat them
        ok = status == 200 and token is not None and len(progress) == 2
        self.expect(device, "boot script", ok, (status, (script or "")[:300]))
        if not ok:
            return
        for url in progress:
            status, text, _ = await self.client.get("boot", url)
            self.expect(device, "progress report", status == 200, (status, text))
        token = token.group(1)
        status, data, _ = await self.client.call(
            "boot", "/api/inventory/started", {}, boot_token=token
        )
        self.expect(device, "agent started", status == 200, (status, data))
        self.boot_tokens[device["index"]] = token

    def credential(self, device: dict) -> str:
        """The per-boot token, as the agent sends it. A device the operator quick-added by a
        MAC it does not boot from submits with the service key: a token proves the device of
        its own MAC only, and the quick-added device holds another one (docs/security.md)."""
        if device["prereg"] == "quick_add" and device["prereg_mac"] != device["boot_mac"]:
            return ""
        return self.boot_tokens.get(device["index"], "")

    async def inventory(self, device: dict) -> None:
        i = device["index"]
        status, data, _ = await self.client.call(
            "inventory", "/api/inventory/submit", device["body"], boot_token=self.credential(device)
        )
        if status != 200:
            self.expect(device, "first submit", False, (status, data))
            return
        self.device_ids[i] = data["device_id"]
        self.statuses[i] = data["status"]
        self.submissions.append(data["submission_id"])
        self.first_submissions.append(data["submission_id"])
        quick = device["prereg"] == "quick_add"
        ok = (
            (not quick or data["device_id"] == self.quick_ids.get(i))
            and data["status"] == ("updated_via_inventory" if quick else "newly_inventoried")
            and data["organization"] == (ORG if device["prereg"] else None)
            and data["device_spec"] == device["expect_spec"]
            and data["imaging_status"] == "ready_for_imaging"
        )
        self.expect(device, "first submit", ok, data)

    async def reboot(self, device: dict) -> None:
        i = device["index"]
        status, data, _ = await self.client.call(
            "reboot", "/api/inventory/check-mac", {"mac_address": device["boot_mac"]}
        )
        want = {
            "needs_inventory": False,  # inventoried: on its way to imaging
            "device_id": self.device_ids.get(i),
            "organization": ORG if device["prereg"] else None,
        }
        self.expect(device, "second check-mac", status == 200 and data == want, (status, data))
        body = json.loads(json.dumps(device["body"]))
        if device["extra_mac"]:
            body["inventory_data"]["mac_address"].append(f"usb0:{device['extra_mac']}")
        status, data, _ = await self.client.call("reboot", "/api/inventory/submit", body)
        if status != 200:
            self.expect(device, "second submit", False, (status, data))
            return
        self.submissions.append(data["submission_id"])
        before = self.statuses.get(i)
        ok = data["device_id"] == self.device_ids.get(i) and data["status"] == (
            "updated_via_inventory" if device["extra_mac"] else before
        )
        self.expect(device, "second submit", ok, data)

    async def run(self) -> None:
        await self.stage("seed", [d for d in self.devices if d["prereg"]], self.seed)
        await self.stage("boot", self.devices, self.boot)
        await self.stage("inventory", self.devices, self.inventory)
        await self.stage("reboot", [d for d in self.devices if d["resubmit"]], self.reboot)


def secret(name: str) -> str:
    """The service key and the admin token come through the environment: never in argv, where
    `ps` shows them and argparse reads a key starting with '-' as an option."""
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"bench.load: set {name} in the environment")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--devices", required=True, help="JSON list from bench.devices")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.devices) as handle:
        devices = json.load(handle)
    client = Client(args.url, secret("DEVICE_LOOKUP_API_KEY"), secret("BENCH_TOKEN"))
    rack = Rack(client, devices, args.concurrency)
    asyncio.run(rack.run())
    result = {
        "stages": rack.stages,
        "records": rack.client.records,
        "wrong": rack.wrong,
        "device_ids": rack.device_ids,
        "quick_ids": rack.quick_ids,
        "submissions": rack.submissions,
        "first_submissions": rack.first_submissions,
        "token_submits": sum(1 for d in devices if rack.credential(d)),
    }
    with open(args.out, "w") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
