"""The REST API over the archive (FastAPI): ``create_app(settings)``; ``fink-like serve`` runs it."""

from fink_like.api.app import create_app

__all__ = ["create_app"]
