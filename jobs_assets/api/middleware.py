"""What the app does to every request before a route sees it: a cap on the body's size,
and HEAD answered as GET (FastAPI's routes take only the methods they name; Starlette's
would add HEAD to every GET)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(HTTPException):
    """413, given the API's error shape by the app's handler of HTTP errors."""

    parameter = "body"

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"body: larger than {limit // 1024} KiB ({limit:,} bytes), the most the API "
            "reads; a saved search's query and delivery fit in far less",
        )


class BodyLimit:
    """Refuses a request body over `limit` bytes (413) when a route reads it: unread when
    its Content-Length says so, else once the bytes streamed in pass the limit. A body is
    parsed and validated whole, on the event loop: 18.8 MB held the worker 15.7 s."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        refused_unread = declared.isdigit() and int(declared) > self.limit
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            if refused_unread:
                raise BodyTooLarge(self.limit)
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:  # chunked, without a Content-Length
                raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, receive_within_limit, send)


class HeadAsGet:
    """HEAD answered as the GET of the same path, without its body: the same status and
    headers (RFC 9110), the ETag and Content-Length included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        # a copy: the server still sees the HEAD it received
        await self.app({**scope, "method": "GET"}, receive, send_without_body)
