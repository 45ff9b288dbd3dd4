"""Security headers on every HTTP response (pages, API, docs, assets, errors), set in one place."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def security_headers(content_security_policy: str) -> dict[str, str]:
    """What every response carries: the pages' policy, no framing, no sniffing, no referrer."""
    return {
        "Content-Security-Policy": content_security_policy,
        "X-Frame-Options": "DENY",  # frame-ancestors 'none' for browsers before CSP 2
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",  # a link or code in a URL never leaves the site
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        # The responder page shares where it is; nothing here needs a microphone or payments.
        "Permissions-Policy": "geolocation=(self), camera=(self), microphone=(), payment=()",
    }


class SecurityHeaders:
    """Plain ASGI, outermost: adds `security_headers` to every HTTP response's start."""

    def __init__(self, app: ASGIApp, content_security_policy: str) -> None:
        self.app = app
        self.headers = security_headers(content_security_policy)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
