"""``fink-like serve [--host --port]``: run the REST API (FastAPI) with uvicorn."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("serve", help="serve the archive's REST API")
    p.add_argument("--host", help="interface to listen on (default api.host)")
    p.add_argument("--port", type=int, help="port (default api.port)")
    p.set_defaults(handler=run)


def run(args, settings) -> int:
    import uvicorn

    from fink_like.api.app import create_app

    uvicorn.run(create_app(settings), host=args.host or settings.api.host,
                port=args.port or settings.api.port, log_level="info")
    return 0
