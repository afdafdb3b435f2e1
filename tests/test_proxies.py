"""Trusted proxies (issue 12, item 11): ``X-Forwarded-For`` is believed only from the
addresses in ``CRM_TRUSTED_PROXIES`` (none by default), so a client cannot pick the address
the per-address sign-in limit counts — in the app under any server, and in
``crm-gateway serve`` (uvicorn believes loopback peers by default)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx2
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from gateway.app import Gateway, create_app
from gateway.cli import main
from gateway.config import Settings, parse_trusted_proxies
from gateway.testing import LOGIN
from tests.test_transport import running_server

ATTEMPTS = 25  # more than the per-address limit (20), each under its own account limit (5)


def failed_sign_ins(post: Callable[..., httpx2.Response], forwarded_for: Callable[[int], str]):
    """The codes of ``ATTEMPTS`` wrong passwords, each for another (unknown) account and
    with its own ``X-Forwarded-For``."""
    codes = []
    for i in range(ATTEMPTS):
        r = post(
            "/graphql",
            json={"query": LOGIN, "variables": {"e": f"nobody{i}@example.test", "p": "wrong"}},
            headers={"X-Forwarded-For": forwarded_for(i)},
        )
        assert r.status_code == 200, r.text
        (error,) = r.json()["data"]["login"]["errors"]
        codes.append(error["code"])
    return codes


def limited(codes: list[str], limit: int = 20) -> bool:
    """The first ``limit`` attempts were checked, every later one was refused unchecked."""
    return set(codes[:limit]) == {"UNAUTHENTICATED"} and set(codes[limit:]) == {"RATE_LIMITED"}


def spoofed(i: int) -> str:
    return f"198.51.100.{i + 1}"


@pytest.fixture
def app_for(gateway) -> Iterator[Callable[..., TestClient]]:
    """``app_for(peer, trusted)``: the app seen from ``peer`` with those trusted proxies."""
    clients: list[TestClient] = []

    def make(peer: str, trusted: tuple[str, ...] = ()) -> TestClient:
        settings = replace(gateway.settings, trusted_proxies=trusted)
        client = TestClient(
            create_app(Gateway(settings, gateway.db, gateway.registry)), client=(peer, 40000)
        )
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def test_by_default_forwarded_headers_are_ignored(app_for) -> None:
    """No trusted proxies (the default): 25 different X-Forwarded-For from one peer count
    against that peer, which the limit stops after 20."""
    assert Settings().trusted_proxies == ()
    app = app_for("127.0.0.1")
    assert limited(failed_sign_ins(app.post, spoofed))


def test_an_untrusted_peer_cannot_dodge_the_limit_either(app_for) -> None:
    app = app_for("203.0.113.9", trusted=("10.0.0.0/8", "127.0.0.1"))
    assert limited(failed_sign_ins(app.post, spoofed))


def test_behind_a_trusted_proxy_the_forwarded_address_counts(app_for) -> None:
    """The proxy's own address is trusted: each forwarded client has its own count, and one
    client behind it is limited after 20 whatever the proxy's address."""
    proxy = app_for("10.1.2.3", trusted=("10.0.0.0/8",))
    assert "RATE_LIMITED" not in failed_sign_ins(proxy.post, spoofed)
    assert limited(failed_sign_ins(proxy.post, lambda _i: "192.0.2.77"))


def test_a_client_cannot_prepend_addresses_through_a_trusted_proxy(app_for) -> None:
    """A proxy appends the peer it saw; what the client wrote before it is not believed:
    the client is the right-most address that is not a trusted proxy."""
    proxy = app_for("127.0.0.1", trusted=("127.0.0.1", "10.0.0.0/8"))
    chain = failed_sign_ins(proxy.post, lambda i: f"{spoofed(i)}, 192.0.2.8, 10.9.9.9")
    assert limited(chain)


def test_trusted_proxies_are_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("CRM_TRUSTED_PROXIES", " 10.0.0.5, 10.1.0.0/16 ,::1,")
    assert Settings.from_env().trusted_proxies == ("10.0.0.5", "10.1.0.0/16", "::1")
    assert parse_trusted_proxies("*") == ("*",)
    assert parse_trusted_proxies("") == ()
    for bad in ("localhost", "10.0.0.0/33", "10.0.0.5, proxy.internal", "*, 10.0.0.1"):
        with pytest.raises(ValueError, match="CRM_TRUSTED_PROXIES"):
            parse_trusted_proxies(bad)


def test_serve_refuses_a_malformed_proxy_list(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_TRUSTED_PROXIES", "")  # serve sets it for its workers
    result = CliRunner().invoke(main, ["serve", "--trusted-proxies", "proxy.internal"])
    assert result.exit_code != 0
    assert "'proxy.internal' is not an IP address or network" in result.output


@pytest.mark.slow
@pytest.mark.engine_agnostic  # forwarded headers in a real server
@pytest.mark.parametrize(
    ("trusted", "dodged"), [pytest.param("", False, id="default"), ("127.0.0.1", True)]
)
def test_crm_gateway_serve_believes_only_trusted_proxies(
    gateway, tmp_path: Path, trusted: str, dodged: bool
) -> None:
    """A real ``crm-gateway serve`` (uvicorn), reached from loopback: by default, forwarded
    addresses do not dodge the limit; with loopback configured as the proxy, they count."""
    url = gateway.settings.resolved_database_url
    with (
        running_server(url, tmp_path, {"CRM_TRUSTED_PROXIES": trusted}) as base,
        httpx2.Client(base_url=base, timeout=30) as http,
    ):
        codes = failed_sign_ins(http.post, spoofed)
    assert ("RATE_LIMITED" not in codes) if dodged else limited(codes)
