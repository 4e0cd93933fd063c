"""`python -m jobs_assets.api [--host H] [--port N]`: serve the API with uvicorn (`make api`)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import uvicorn

if TYPE_CHECKING:
    from fastapi import FastAPI


def main(argv: list[str] | None = None, app: FastAPI | None = None) -> None:
    """Serve `app`, or the one `create_app()` configures from the environment."""
    parser = argparse.ArgumentParser(prog="python -m jobs_assets.api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    uvicorn.run(
        app if app is not None else "jobs_assets.api.app:create_app",
        factory=app is None,
        host=args.host,
        port=args.port,
        workers=1,
        log_level=args.log_level,
        access_log=False,
    )


if __name__ == "__main__":
    main()
