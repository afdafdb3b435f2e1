"""The GraphiQL page a browser gets at ``GET /graphql``.

Every file it loads comes from the gateway (``/graphiql/assets/``) with its SRI hash, and the
page's Content-Security-Policy allows this origin only: no CDN, no inline script or style
(``static/crm-graphiql.js`` mounts GraphiQL and the sign-in bar). Links are relative to
``/graphql``, so the page also works behind a proxy that serves the gateway under a prefix.
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

from gateway.graphiql.assets import Asset

#: Only this origin, for everything; nothing may frame the page or be embedded as a plugin.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)

#: Scripts load in this order: GraphiQL's UMD build needs React's globals, the explorer
#: plugin needs GraphiQL's; the gateway's own script comes last.
PACKAGE_ORDER = ("react", "react-dom", "graphiql", "@graphiql/plugin-explorer", None)
OWN_SCRIPT = "crm-graphiql.js"
OWN_STYLE = "crm-graphiql.css"
ICON = "favicon.svg"


def _ordered(assets: dict[str, Asset], suffix: str) -> list[Asset]:
    chosen = [a for a in assets.values() if a.name.endswith(suffix)]
    return sorted(chosen, key=lambda a: PACKAGE_ORDER.index(a.package))


def _href(asset: Asset) -> str:
    return escape(f"graphiql/assets/{asset.name}")


def render_page(assets: dict[str, Asset]) -> str:
    """The page's HTML: stylesheets and scripts in load order, each with its hash."""
    styles = [a for a in _ordered(assets, ".css") if a.pinned or a.name == OWN_STYLE]
    scripts = [a for a in _ordered(assets, ".js") if a.pinned or a.name == OWN_SCRIPT]
    head = "\n".join(
        f'    <link rel="stylesheet" href="{_href(a)}" integrity="{a.integrity}" />' for a in styles
    )
    body = "\n".join(
        f'    <script src="{_href(a)}" integrity="{a.integrity}"></script>' for a in scripts
    )
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>GraphiQL · CRM gateway</title>
    <link rel="icon" href="{_href(assets[ICON])}" />
{head}
  </head>
  <body>
    <header id="crm-session" aria-label="Session"></header>
    <div id="graphiql">Loading GraphiQL…</div>
    <noscript>GraphiQL needs JavaScript. Without it, send GraphQL requests to this URL
      with POST (see the README, "A first query").</noscript>
{body}
  </body>
</html>
"""


class GraphiQLPage:
    """The rendered page (built once per process) and the headers it is served with."""

    def __init__(self, assets: dict[str, Asset]) -> None:
        self.html = render_page(assets)

    def response(self) -> HTMLResponse:
        return HTMLResponse(
            self.html,
            headers={
                "content-security-policy": CSP,
                "cache-control": "no-cache",
                "referrer-policy": "no-referrer",
                "x-content-type-options": "nosniff",
            },
        )
