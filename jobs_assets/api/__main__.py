"""`python -m jobs_assets.api [--host H] [--port N]`: serve the API with uvicorn (`make api`)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import uvicorn

if TYPE_CHECKING:
    from fastapi import FastAPI


def server_options(
    argv: list[str] | None = None,
    app: FastAPI | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """uvicorn's settings: `app`, or the one `create_app()` configures from the environment.

    X-Forwarded-For and X-Forwarded-Proto are read only from the proxies that
    `FORWARDED_ALLOW_IPS` (in `env`, default the process's over .env) names: uvicorn would
    trust them from 127.0.0.1 by default, so any local client could pick the address
    that saved searches' rate limit counts and the scheme of the links it is given."""
    parser = argparse.ArgumentParser(prog="python -m jobs_assets.api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    if env is None:
        from jobs_assets.settings import environment

        env = environment()
    proxies = (env.get("FORWARDED_ALLOW_IPS") or "").strip()
    return {
        "app": app if app is not None else "jobs_assets.api.app:create_app",
        "factory": app is None,
        "host": args.host,
        "port": args.port,
        "workers": 1,
        "log_level": args.log_level,
        "access_log": False,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies or None,
    }


def main(argv: list[str] | None = None, app: FastAPI | None = None) -> None:
    """Serve `app`, or the one `create_app()` configures from the environment."""
    uvicorn.run(**server_options(argv, app))


if __name__ == "__main__":
    main()
