"""``/docs``: Swagger UI served from the gateway itself, no CDN and no inline script.

FastAPI's default page loads Swagger UI from jsDelivr and starts it with an inline ``<script>``:
it shows nothing in an air-gapped cluster and needs ``'unsafe-inline'`` under a CSP. Here the
assets come from the ``swagger-ui-bundle`` package (package data), the start-up code is a static
file, and the page carries a CSP that allows only the gateway's own origin. ReDoc is off.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from winnow.gateway.exceptions import GatewayError

STATIC = "/docs/static"
# Swagger UI sets inline styles and draws icons as data: SVGs; scripts only from here.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_INIT_JS = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,
  });
});
"""
_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{title}} - API docs</title>
<link rel="stylesheet" href="{STATIC}/swagger-ui.css">
<link rel="icon" type="image/png" href="{STATIC}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{STATIC}/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""


def swagger_ui_dir() -> Path:
    """Where the installed Swagger UI assets are (``swagger-ui-py``'s ``static`` folder).

    Found without importing the package: its ``__init__`` loads web-framework glue we do not use.
    """
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise GatewayError("swagger-ui-py is not installed: pip install 'swagger-ui-py>=25.7'")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def add_docs(app: FastAPI) -> None:
    """Serve ``/docs`` (Swagger UI, self-hosted) for ``app``; create the app with docs_url=None."""
    app.mount(STATIC, StaticFiles(directory=swagger_ui_dir()), name="swagger-ui")
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(_PAGE.format(title=app.title), headers=headers)

    @app.get("/docs/init.js", include_in_schema=False)
    async def docs_init() -> Response:
        return Response(_INIT_JS, media_type="text/javascript", headers=headers)
