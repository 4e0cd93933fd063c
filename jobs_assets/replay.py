"""A local HTTP server that speaks every registered API from recorded responses.

`make demo` and the tests point `JOBS_*_URL` at it, so the real HTTP code (retries,
paging, threads, raw store) runs offline. Tests can script replies per path: an
HTML error page, a truncated body, a 429 with `Retry-After`, a slow answer.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from jobs_assets.lib.sources import SOURCES
from jobs_assets.settings import ECB_RATES_URL, url_variable

FIXTURES = Path(__file__).parent / "replay_fixtures"
#: the ECB's daily rates file, recorded in its real format (served at `/ecb_rates`)
ECB_PATH = "/ecb_rates"
ECB_FIXTURE = "eurofxref-daily.xml"
#: the suffix of the earlier recordings: sources recorded on two dates have a second file
#: (`<name>_b.json`; /work/shared/fixtures/SOURCES_MORE.md), so a
#: demo can replay one window of each and the listings of the first that are gone from
#: the second expire
EARLIER = "_b"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    delay: float = 0.0

    @classmethod
    def json(cls, document: object, status: int = 200, **kwargs) -> Reply:
        return cls(status=status, body=json.dumps(document).encode(), **kwargs)


@dataclass
class Request:
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    at: float


class ReplayServer:
    """Serve `fixtures` on 127.0.0.1; `script(path, *replies)` overrides the next replies."""

    def __init__(self, fixtures: Path = FIXTURES, latency: float = 0.0, port: int = 0) -> None:
        self.fixtures = Path(fixtures)
        self.latency = latency
        self.requests: list[Request] = []
        self._scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._recorded = self.fixtures  # the folder the recordings come from
        self._views: tempfile.TemporaryDirectory | None = None

    # --- control --------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, source: str) -> str:
        return f"{self.base_url}/{source}"

    def env(self) -> dict[str, str]:
        """`JOBS_*_URL` settings that point every source (and the ECB rates) here."""
        urls = {url_variable(s): self.url(name) for name, s in SOURCES.items()}
        return {**urls, ECB_RATES_URL[0]: self.base_url + ECB_PATH}

    def script(self, path: str, *replies: Reply) -> None:
        """The next requests to `path` (`/<source>`) get these replies, in order."""
        with self._lock:
            self._scripts.setdefault(path, []).extend(replies)

    def use_recordings(self, suffix: str = "") -> list[str]:
        """Serve `<name><suffix>.json` in place of `<name>.json` where the fixtures hold
        one (`EARLIER`: the older recording), the usual recording elsewhere; "" goes back
        to the usual ones. Returns the files that stand in. The sources' own replay code
        reads `<name>.json` of a folder, so the stand-ins are linked into a folder of
        their own (copied where links are not allowed)."""
        if not suffix:
            self.fixtures = self._recorded
            return []
        if self._views is None:
            self._views = tempfile.TemporaryDirectory(prefix="jobs-replay-")
        view = Path(self._views.name) / suffix
        view.mkdir(exist_ok=True)
        used = []
        for recorded in sorted(self._recorded.iterdir()):
            if not recorded.is_file() or recorded.stem.endswith(suffix):
                continue
            stand_in = recorded.with_name(f"{recorded.stem}{suffix}{recorded.suffix}")
            source = stand_in if stand_in.is_file() else recorded
            target = view / recorded.name
            if not target.exists():
                try:
                    target.symlink_to(source.resolve())
                except OSError:
                    shutil.copyfile(source, target)
            if source is stand_in:
                used.append(stand_in.name)
        with self._lock:
            self.fixtures = view
        return used

    def start(self) -> ReplayServer:
        # a short poll: stop() waits for the next one (the default half second, per server)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._views is not None:
            self._views.cleanup()
            self._views = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- serving --------------------------------------------------------------------

    def reply_for(self, path: str, params: dict[str, str]) -> Reply:
        with self._lock:
            queue = self._scripts.get(path)
            if queue:
                return queue.pop(0)
        if path == ECB_PATH and (self.fixtures / ECB_FIXTURE).exists():
            body = (self.fixtures / ECB_FIXTURE).read_bytes()
            return Reply(body=body, headers={"Content-Type": "text/xml"})
        source = SOURCES.get(path.strip("/"))
        body = source.replay_body(self.fixtures, params, self.base_url + path) if source else None
        if body is not None:
            return Reply(body=body)
        return Reply.json({"error": f"no such endpoint {path}"}, status=404)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                parts = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                with server._lock:
                    server.requests.append(
                        Request(parts.path, params, dict(self.headers), time.time())
                    )
                reply = server.reply_for(parts.path, params)
                delay = reply.delay + server.latency
                if delay:
                    time.sleep(delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a read timeout test)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def main() -> None:
    """`python -m jobs_assets.replay [port]`: serve the recorded responses until stopped."""
    import sys

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    with ReplayServer(port=port) as server:
        print(f"replaying recorded API responses at {server.base_url}", flush=True)
        for key, value in server.env().items():
            print(f"  {key}={value}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
