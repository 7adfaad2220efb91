"""``fink-like serve [--host --port --run]``: run the REST API (FastAPI) with uvicorn."""

from __future__ import annotations

import errno
import socket

from fink_like.cli.args import port
from fink_like.jobs.runs import add_run_flag


def register(sub) -> None:
    p = sub.add_parser("serve", help="serve the science portal and the archive's REST API",
                       description="Serve the science portal (/portal/) and the REST API (OpenAPI docs "
                                   "at /docs) over the archive of the latest run, or of --run.")
    p.add_argument("--host", metavar="HOST", help="interface to listen on (default api.host)")
    p.add_argument("--port", type=port, metavar="PORT", help="port (default api.port)")
    add_run_flag(p)
    p.set_defaults(handler=run)


def check_port_free(host: str, number: int) -> None:
    """Raise UsageError when ``host:number`` cannot be listened on (in use, unknown host)."""
    from fink_like.errors import UsageError

    try:
        with socket.create_server((host, number)):
            pass
    except socket.gaierror as exc:
        raise UsageError(f"--host {host}: unknown host ({exc.strerror})") from None
    except OSError as exc:
        why = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be used: {exc.strerror}"
        raise UsageError(f"port {number} on {host} {why}: choose another with --port") from None


def run(args, settings) -> int:
    import logging

    import uvicorn

    from fink_like.api.app import create_app
    from fink_like.api.metrics import ApiMetrics, instrument
    from fink_like.cli.query_cmd import open_archive_for_reading
    from fink_like.metrics import serve

    settings, archive = open_archive_for_reading(settings, args.run)
    host, number = args.host or settings.api.host, args.port or settings.api.port
    check_port_free(host, number)
    app = create_app(settings, archive)
    if settings.metrics.enabled:  # request counts and latency on metrics.port, like every job
        metrics = ApiMetrics()
        instrument(app, metrics)
        endpoint = serve(metrics, settings.metrics.port, settings.metrics.host)
        logging.getLogger("fink_like.api").info(
            "metrics endpoint", extra={"url": f"http://{settings.metrics.host}:{endpoint}/metrics"})
    print(f"serving {settings.archive.path}: portal http://{host}:{number}/portal/, API docs "
          f"http://{host}:{number}/docs (Ctrl-C to stop)")
    uvicorn.run(app, host=host, port=number, log_level="info")
    return 0
