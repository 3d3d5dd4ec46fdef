"""Webhook signatures and back-off, as pure functions: what a receiver checks, and how long the
worker waits between tries."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from inventory.errors import ValidationFailed
from inventory.services.outbox import backoff_delay, sign, signature_header, verify
from inventory.services.webhooks import check_url

SECRET = "whsec_test-secret-0123456789"
BODY = b'{"id":"evt_1","type":"device.imaged"}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1700000000, BODY) == expected
    assert signature_header(SECRET, 1700000000, BODY) == f"t=1700000000,v1={expected}"


@pytest.mark.parametrize(
    ("header", "body", "now", "ok"),
    [
        (signature_header(SECRET, 1700000000, BODY), BODY, 1700000000, True),
        (signature_header(SECRET, 1700000000, BODY), BODY, 1700000299, True),
        (signature_header(SECRET, 1700000000, BODY), BODY, 1700000301, False),
        (signature_header(SECRET, 1700000000, BODY), BODY, 1699999600, False),
        (signature_header(SECRET, 1700000000, BODY), BODY + b" ", 1700000000, False),
        (signature_header("another-secret-12345", 1700000000, BODY), BODY, 1700000000, False),
        (signature_header(SECRET, 1700000000, BODY).replace("t=1700000000", "t=1700000001"),
         BODY, 1700000000, False),
        ("v1=" + sign(SECRET, 1700000000, BODY), BODY, 1700000000, False),
        ("t=soon,v1=abc", BODY, 1700000000, False),
        ("", BODY, 1700000000, False),
    ],
    ids=[
        "fresh and right", "within five minutes", "too old", "from the future",
        "body changed", "other secret", "timestamp changed", "no timestamp",
        "timestamp not a number", "no header",
    ],
)  # fmt: skip
def test_verify_accepts_only_a_fresh_signature_of_this_body_under_this_secret(
    header, body, now, ok
):
    assert verify(SECRET, header, body, now=now) is ok


@pytest.mark.parametrize("attempt", [1, 2, 3, 8, 20, 200])
def test_backoff_doubles_up_to_the_cap_with_at_most_half_taken_off(attempt):
    ceiling = min(3600, 10 * 2 ** (attempt - 1))
    low = backoff_delay(attempt, base=10, cap=3600, rand=lambda: 0.0)
    high = backoff_delay(attempt, base=10, cap=3600, rand=lambda: 0.999999)
    assert low == ceiling / 2
    assert ceiling / 2 < high < ceiling + 1e-6


def test_backoff_is_jittered():
    delays = {backoff_delay(4, base=10, cap=3600) for _ in range(50)}
    assert len(delays) > 40
    assert all(40 <= d <= 80 for d in delays)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://127.0.0.1:8080/hook", True),
        ("https://cmdb.example/hooks?x=1", True),
        ("HTTPS://CMDB.EXAMPLE/", True),
        ("ftp://cmdb.example/", False),
        ("gopher://cmdb.example/", False),
        ("javascript:alert(1)", False),
        ("data:text/plain,hi", False),
        ("//cmdb.example/", False),
        ("http:///nohost", False),
        ("http://a b/", False),
        ("http://cmdb.example/\x00", False),
        ("https://" + "a" * 500 + ".example/", False),
        (None, False),
        (42, False),
    ],
    ids=[
        "http", "https", "upper case", "ftp", "gopher", "javascript", "data",
        "no scheme", "no host", "space", "NUL", "too long", "null", "number",
    ],
)  # fmt: skip
def test_only_http_and_https_urls_are_accepted(url, ok):
    if ok:
        assert check_url(url) == url
    else:
        with pytest.raises(ValidationFailed) as caught:
            check_url(url)
        assert caught.value.field == "url"
