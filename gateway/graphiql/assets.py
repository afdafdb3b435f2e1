"""GraphiQL's files, read once per process and served under ``/graphiql/assets/{name}``.

Vendored files carry their version in their name and their pinned SRI hash from
``vendor/manifest.json``: they never change under one URL, so browsers keep them a year.
The gateway's own files (``static/``) are revalidated (``ETag``) on every load.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "vendor"
STATIC = HERE / "static"
ROUTE = "/graphiql/assets/{name}"

CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def sri(data: bytes) -> str:
    """The Subresource Integrity value of ``data`` (sha384, as browsers check it)."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


@dataclass(frozen=True)
class Asset:
    name: str
    body: bytes
    content_type: str
    #: The SRI hash the page names; for vendored files, the pinned one from the manifest.
    integrity: str
    #: Vendored (a version in its name): cached for a year without asking again.
    pinned: bool
    #: The npm package it comes from (vendored files only).
    package: str | None = None

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'


def _content_type(name: str) -> str:
    return CONTENT_TYPES[Path(name).suffix]


def load_assets() -> dict[str, Asset]:
    """Every servable file by name: the manifest's vendored files, then ``static/``."""
    manifest = json.loads((VENDOR / "manifest.json").read_text(encoding="utf-8"))
    found = {
        name: Asset(
            name=name,
            body=(VENDOR / name).read_bytes(),
            content_type=_content_type(name),
            integrity=entry["integrity"],
            pinned=True,
            package=entry["package"],
        )
        for name, entry in manifest.items()
    }
    for path in sorted(STATIC.iterdir()):
        if path.suffix in CONTENT_TYPES:
            body = path.read_bytes()
            found[path.name] = Asset(
                path.name, body, _content_type(path.name), sri(body), pinned=False
            )
    return found


class AssetRoute:
    """``GET /graphiql/assets/{name}``: the file, with its cache policy and an ``ETag``."""

    def __init__(self, assets: dict[str, Asset]) -> None:
        self.assets = assets

    async def endpoint(self, request: Request) -> Response:
        asset = self.assets.get(request.path_params["name"])
        headers = {"x-content-type-options": "nosniff"}
        if asset is None:
            return PlainTextResponse("no such GraphiQL file", 404, headers=headers)
        headers["cache-control"] = IMMUTABLE if asset.pinned else REVALIDATE
        headers["etag"] = asset.etag
        if asset.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.content_type, headers=headers)
