"""Request counts and latency of the REST API, for the Prometheus endpoint of ``fink-like serve``.

``fink_like_api_requests_total{method,route,status}`` and
``fink_like_api_request_seconds{route}`` (histogram). ``route`` is the path template
(``/objects/{object_id}``), never the raw path, so the number of series stays bounded.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class ApiMetrics:
    """The API's counters, in their own registry (served by :func:`fink_like.metrics.serve`)."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self.requests = Counter("fink_like_api_requests", "REST API requests",
                                ["method", "route", "status"], registry=self.registry)
        self.seconds = Histogram("fink_like_api_request_seconds", "REST API request duration",
                                 ["route"], registry=self.registry, buckets=BUCKETS)


def instrument(app, metrics: ApiMetrics):
    """Count every request of ``app`` (a FastAPI application) in ``metrics``; returns ``app``."""

    @app.middleware("http")
    async def observe(request, call_next):
        t0 = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = getattr(request.scope.get("route"), "path", "unmatched")
            metrics.requests.labels(request.method, route, str(status)).inc()
            metrics.seconds.labels(route).observe(time.perf_counter() - t0)

    return app
