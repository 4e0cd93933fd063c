"""A local HTTP server that misbehaves on purpose, one fault per path.

The replay server answers like the real APIs; this one writes raw bytes to the socket,
so it can trickle a body, cut a chunked body, lie in `Content-Length`, send corrupt
gzip or redirect forever.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

Fault = Callable[[BaseHTTPRequestHandler], None]


def trickle(body: bytes, every: float) -> Fault:
    """A correct `Content-Length`, then one byte every `every` seconds."""

    def send(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        for byte in body:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(every)

    return send


def short_body(body: bytes, declared: int) -> Fault:
    """`Content-Length: declared`, fewer bytes, then the connection closes."""

    def send(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(declared))
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)

    return send


def truncated_chunked(first_chunk: bytes) -> Fault:
    """A chunked body whose connection closes before the terminating chunk."""

    def send(handler: BaseHTTPRequestHandler) -> None:
        handler.protocol_version = "HTTP/1.1"
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.wfile.write(f"{len(first_chunk):x}\r\n".encode() + first_chunk + b"\r\n")
        handler.wfile.write(b"400\r\n" + b"x" * 10)  # announces 1 KiB, sends 10 bytes
        handler.wfile.flush()
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)

    return send


def corrupt_gzip(handler: BaseHTTPRequestHandler) -> None:
    body = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03this is not deflate data at all"
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def redirect_to(location: str) -> Fault:
    def send(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return send


class FaultServer:
    """`faults[path]` answers every request to `path`; `hits[path]` counts them."""

    def __init__(self, faults: dict[str, Fault]) -> None:
        self.faults = faults
        self.hits: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                path = urlsplit(self.path).path
                server.hits[path] = server.hits.get(path, 0) + 1
                with contextlib.suppress(OSError):  # the client gave up, as it should
                    server.faults[path](self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def __enter__(self) -> FaultServer:
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class BrokenService(FaultServer):
    """Answers every request (any method, any path) with `status` and an S3-style error
    body, as a storage endpoint that is down does (or, `hang_up`, closes the connection
    unanswered, as a dead proxy does); `requests` counts them; `url("")` is its endpoint."""

    def __init__(
        self, status: int = 500, code: str = "InternalError", hang_up: bool = False
    ) -> None:
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
            "<Message>We encountered an internal error. Please try again.</Message></Error>"
        ).encode()
        self.requests = 0
        service = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self) -> None:
                service.requests += 1
                if hang_up:  # `hang_up`: the connection is closed with no answer at all
                    self.close_connection = True
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = answer  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
