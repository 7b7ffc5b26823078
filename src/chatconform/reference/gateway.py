"""What can sit in front of the API: a reverse proxy's request-body limit (body-limit-1mb)."""

from __future__ import annotations

from starlette.responses import HTMLResponse, Response

from chatconform.reference.faults import FaultSet

BODY_LIMIT_BYTES = 1024 * 1024
# nginx's own page for client_max_body_size, byte for byte as it sends it.
NGINX_413 = (
    "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
    "<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def gateway_refusal(body: bytes, faults: FaultSet) -> Response | None:
    """The gateway's 413 page for a body over its limit; None lets the request through."""
    if "body-limit-1mb" in faults and len(body) > BODY_LIMIT_BYTES:
        return HTMLResponse(NGINX_413, status_code=413)
    return None
