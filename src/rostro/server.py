"""The FastAPI application of ``rostro serve``: the Azure Face API and the Studio, composed.

``create_app`` builds it from ServiceSettings; ``app_from_environment`` is the factory
uvicorn calls in each worker process. Routers are listed in ``ROUTERS`` (each module exposes
``router``, imported plainly here); a new resource family adds its module there. Route paths
are declared in lowercase (the edge middleware lowercases known segments of incoming paths).
Neither ``rostro.api`` nor ``rostro.studio`` imports this module: it sits above both.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from anyio import CapacityLimiter, to_thread
from fastapi import FastAPI

from rostro import __version__
from rostro.api import (
    container_routes,
    containers,
    detect,
    detect_v12,
    facelists,
    openapi,
    operations,
    recognition,
    usage_routes,
)
from rostro.api.errors import install_error_handlers
from rostro.api.middleware import EdgeMiddleware
from rostro.api.outcomes import OutcomeMiddleware
from rostro.api.redaction import redact_root_handlers
from rostro.models.cache import ModelCache
from rostro.service.memory import PixelBudget, tune_allocator
from rostro.service.settings import ServiceSettings
from rostro.service.state import ServiceState, open_gallery_store
from rostro.service.trainer import TrainingWorker
from rostro.service.url_fetch import DownloadSlots
from rostro.store.db import open_database
from rostro.studio import routes
from rostro.threads import limit_threads
from rostro.vision.analyzer import Analyzer

log = logging.getLogger(__name__)

ROUTERS = (
    detect.router,
    detect_v12.router,
    recognition.router,
    container_routes.router,
    facelists.router,
    operations.router,
    usage_routes.router,
    routes.router,  # the Studio
)

#: The container kinds that train, by store kind (what the training worker needs of them).
TRAINED_KINDS = {kind.store_kind: kind for kind in containers.KINDS if kind.needs_training}

DESCRIPTION = """\
A self-hosted, offline Face API that speaks Azure's Face REST API v1.0.

Authenticate with the `Ocp-Apim-Subscription-Key` header (key 1 or key 2 of a resource:
`rostro keys show NAME`). Errors are always `{"error": {"code", "message"}}`.
"""


def create_app(settings: ServiceSettings | None = None, analyzer: Analyzer | None = None) -> FastAPI:
    """Return the service application. The database is opened (and migrated) and the models
    are loaded when the application starts; pass ``analyzer`` to reuse loaded models."""
    settings = settings or ServiceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        tune_allocator()
        limit_threads(settings.blas_thread_count())  # each worker process, before any work
        database = open_database(settings.database_location())
        galleries = open_gallery_store(database)
        engine = analyzer or Analyzer(ModelCache(settings.models_path()))
        engine.load_all()
        app.state.service = ServiceState(
            settings=settings, database=database, analyzer=engine,
            fetch_policy=settings.fetch_policy(),
            inference=CapacityLimiter(settings.threads()),
            downloads=DownloadSlots(settings.download_threads, settings.downloads_per_host),
            pixels=PixelBudget(settings.pixel_budget), galleries=galleries,
        )
        state = app.state.service
        state.trainer = TrainingWorker(database, state.gallery_files(), TRAINED_KINDS,
                                       lease=settings.training_lease, poll=settings.training_poll)
        state.trainer.start()
        log.info("service ready: database %s", database.location)
        try:
            yield
        finally:
            await to_thread.run_sync(state.trainer.stop)  # waits a moment for runs going on
            galleries.close()
            database.close()

    app = FastAPI(title="Rostro Face API", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan, redirect_slashes=False, docs_url=None, redoc_url=None)
    _serve_docs_offline(app)
    openapi.install(app)
    for router in ROUTERS:
        app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(OutcomeMiddleware)  # inside the edge: sees the final status
    app.add_middleware(EdgeMiddleware, routes_of=app)
    return app


def _serve_docs_offline(app: FastAPI) -> None:
    """Serve Swagger UI at /docs from the swagger-ui-bundle wheel: FastAPI's default page
    loads it from a CDN, which an offline machine cannot reach."""
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    openapi_url = app.openapi_url
    if openapi_url is None:  # no OpenAPI document, nothing to show
        return
    app.mount("/docs-static", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def docs():
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{app.title} - Swagger UI",
            swagger_js_url="/docs-static/swagger-ui-bundle.js",
            swagger_css_url="/docs-static/swagger-ui.css",
            swagger_favicon_url="/docs-static/favicon-32x32.png")


def app_from_environment() -> FastAPI:
    """Uvicorn factory: the application for the settings in ``$ROSTRO_SERVICE_SETTINGS``.
    Worker processes start with bare logging; errors (with request ids) still reach stderr."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redact_root_handlers()
    return create_app(ServiceSettings.from_environment())
