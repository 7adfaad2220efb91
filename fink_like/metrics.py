"""Prometheus metrics of the streaming jobs, fed by batch counts and a query listener.

Exposed on ``metrics.port`` (``/metrics``) by :func:`serve`. Names:

* ``fink_like_alerts_total{stage}``: alerts out of each stage (consumed, raw, science,
  archived, published);
* ``fink_like_quarantined_total{reason}``;
* ``fink_like_module_errors_total{module}`` and ``fink_like_stage_seconds_total{stage}``;
* ``fink_like_published_total{topic}``;
* ``fink_like_batch_duration_seconds`` (histogram, from the StreamingQueryListener);
* ``fink_like_end_to_end_latency_seconds`` (histogram, Kafka timestamp to publication);
* ``fink_like_query_restarts_total{query}`` (supervisor restarts), ``fink_like_lost_offsets_total``
  (offsets gone from Kafka, with ``failOnDataLoss`` off), ``fink_like_sink_errors_total{sink}``.

Every job serves them from its driver (:func:`job_metrics`); ``fink-like serve`` adds
its request counts and latency (``fink_like.api.app``).
"""

from __future__ import annotations

import logging
import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger("fink_like.metrics")

LATENCY_BUCKETS = (0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300)


class BrokerMetrics:
    """One registry per process; :meth:`observe_batch` is called by the driver after each batch."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.alerts = Counter("fink_like_alerts", "Alerts out of each stage", ["stage"], registry=r)
        self.quarantined = Counter("fink_like_quarantined", "Quarantined messages", ["reason"], registry=r)
        self.module_errors = Counter("fink_like_module_errors", "Science module failures (batches)",
                                     ["module"], registry=r)
        self.stage_seconds = Counter("fink_like_stage_seconds", "Executor seconds per stage or module",
                                     ["stage"], registry=r)
        self.published = Counter("fink_like_published", "Alerts published per topic", ["topic"], registry=r)
        self.batch_duration = Histogram("fink_like_batch_duration_seconds", "Micro-batch duration",
                                        registry=r, buckets=LATENCY_BUCKETS)
        self.input_rate = Gauge("fink_like_input_rows_per_second", "Input rate of the last batch", registry=r)
        self.latency = Histogram("fink_like_end_to_end_latency_seconds",
                                 "Kafka timestamp to publication", registry=r, buckets=LATENCY_BUCKETS)
        self.restarts = Counter("fink_like_query_restarts", "Streaming query restarts by the supervisor",
                                ["query"], registry=r)
        self.lost = Counter("fink_like_lost_offsets", "Offsets gone from Kafka before they were read",
                            registry=r)
        self.sink_errors = Counter("fink_like_sink_errors", "Failed writes per sink (batches)",
                                   ["sink"], registry=r)

    def observe_batch(self, parts) -> None:
        for p in parts:
            for stage in ("consumed", "raw", "science", "archived"):
                self.alerts.labels(stage).inc(getattr(p, stage))
            self.alerts.labels("published").inc(sum(p.published.values()))
            for reason, n in p.quarantine_reasons.items():
                self.quarantined.labels(reason).inc(n)
            for module, n in p.module_errors.items():
                self.module_errors.labels(module).inc(n)
            for stage, seconds in {**p.stage_seconds, **p.module_seconds}.items():
                self.stage_seconds.labels(stage).inc(seconds)
            for topic, n in p.published.items():
                self.published.labels(topic).inc(n)
            for value in p.latencies:
                self.latency.observe(value)
            self.lost.inc(p.lost)
            for sink, n in p.sink_errors.items():
                self.sink_errors.labels(sink).inc(n)

    def listener(self, ready=None):
        """A StreamingQueryListener feeding batch durations and input rates.

        ``ready`` (a ``threading.Event``) is set at the query's first progress or idle
        event: its source and workers are up, so data sent from then on meets a warm broker.
        """
        from pyspark.sql.streaming import StreamingQueryListener

        metrics = self

        class _Listener(StreamingQueryListener):
            def onQueryStarted(self, event):
                log.info("query started", extra={"query": event.name, "id": str(event.id)})

            def onQueryProgress(self, event):
                if ready is not None:
                    ready.set()
                progress = event.progress
                duration = (progress.durationMs or {}).get("triggerExecution")
                if duration is not None:
                    metrics.batch_duration.observe(duration / 1000.0)
                metrics.input_rate.set(progress.inputRowsPerSecond or 0.0)

            def onQueryIdle(self, event):
                if ready is not None:
                    ready.set()

            def onQueryTerminated(self, event):
                log.info("query terminated", extra={"id": str(event.id), "exception": event.exception})

        return _Listener()


class _Current(CollectorRegistry):
    """What an endpoint serves: the registry of the latest job of this process on that port."""

    def __init__(self, target: CollectorRegistry):
        super().__init__(auto_describe=True)
        self.target = target

    def collect(self):
        return self.target.collect()


_ENDPOINTS: dict[tuple[str, int], tuple[int, _Current]] = {}
_LOCK = threading.Lock()


def serve(metrics: BrokerMetrics, port: int, host: str = "127.0.0.1") -> int:
    """Expose ``/metrics`` on ``host:port`` (0 picks a free port); returns the port.

    One HTTP server per port and process: a later job of the same process (tests, a
    restarted query) takes the endpoint over instead of failing on a busy port. The
    server outlives the job, so the last counts can still be scraped.
    """
    with _LOCK:
        if port and (host, port) in _ENDPOINTS:
            bound, current = _ENDPOINTS[(host, port)]
            current.target = metrics.registry
            return bound
        current = _Current(metrics.registry)
        server, _thread = start_http_server(port, addr=host, registry=current)
        bound = server.server_port
        _ENDPOINTS[(host, bound)] = (bound, current)
        return bound


def job_metrics(settings, job: str) -> BrokerMetrics:
    """Metrics for one job, served on ``metrics.port`` when ``metrics.enabled``.

    A port held by another process (two jobs on one machine) does not stop the job: the
    endpoint moves to a free port, named in the log line "metrics endpoint".
    """
    metrics = BrokerMetrics()
    if settings.metrics.enabled:
        try:
            port = serve(metrics, settings.metrics.port, settings.metrics.host)
        except OSError as exc:
            log.warning("metrics port busy, serving on a free port instead",
                        extra={"port": settings.metrics.port, "error": str(exc)})
            port = serve(metrics, 0, settings.metrics.host)
        log.info("metrics endpoint", extra={"job": job, "url": f"http://{settings.metrics.host}:{port}/metrics"})
    return metrics
