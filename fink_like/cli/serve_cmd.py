"""``fink-like serve [--host --port]``: run the REST API (FastAPI) with uvicorn."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("serve", help="serve the archive's REST API")
    p.add_argument("--host", help="interface to listen on (default api.host)")
    p.add_argument("--port", type=int, help="port (default api.port)")
    p.set_defaults(handler=run)


def run(args, settings) -> int:
    import logging

    import uvicorn

    from fink_like.api.app import create_app
    from fink_like.api.metrics import ApiMetrics, instrument
    from fink_like.metrics import serve

    app = create_app(settings)
    if settings.metrics.enabled:  # request counts and latency on metrics.port, like every job
        metrics = ApiMetrics()
        instrument(app, metrics)
        port = serve(metrics, settings.metrics.port, settings.metrics.host)
        logging.getLogger("fink_like.api").info(
            "metrics endpoint", extra={"url": f"http://{settings.metrics.host}:{port}/metrics"})
    uvicorn.run(app, host=args.host or settings.api.host,
                port=args.port or settings.api.port, log_level="info")
    return 0
