"""The real google-api-python-client, wired to the fake Calendar server and unable to reach
anything but 127.0.0.1."""

from __future__ import annotations

import urllib.parse
from typing import Any

import httplib2

from tests.fakes.google_calendar import FakeGoogleCalendar


class LocalOnlyHttp(httplib2.Http):
    """An httplib2 transport that refuses any host but 127.0.0.1 (and ignores proxy
    settings), so a misconfigured client fails the test instead of reaching Google."""

    def __init__(self) -> None:
        super().__init__(proxy_info=None)

    def request(self, uri: str, *args: Any, **kwargs: Any) -> Any:
        host = urllib.parse.urlsplit(uri).hostname
        if host != "127.0.0.1":
            raise AssertionError(f"request to {host!r} refused: tests never reach the internet")
        return super().request(uri, *args, **kwargs)


def calendar_client(fake: FakeGoogleCalendar, token: str = "test-access-token") -> Any:
    """google-api-python-client's Calendar v3 resource, built from the discovery document the
    library ships, talking to ``fake`` with a dummy bearer token."""
    from google.oauth2.credentials import Credentials
    from google_auth_httplib2 import AuthorizedHttp
    from googleapiclient.discovery import build

    http = AuthorizedHttp(Credentials(token=token), http=LocalOnlyHttp())
    return build(
        "calendar",
        "v3",
        http=http,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": fake.base_url},
    )
