"""``rostro serve``, ``rostro resources``, ``rostro keys`` and ``rostro usage``.

``serve`` opens (or creates) the database (``$ROSTRO_HOME/rostro.db``, or the PostgreSQL
database of ``--database-url`` / ``$ROSTRO_DATABASE_URL``), makes sure a resource exists
(``default`` on F0 the first time), prints its key 1 and endpoint the way the Azure portal's
"Keys and Endpoint" page shows them, and runs the API with uvicorn. The other commands use
``$ROSTRO_DATABASE_URL`` when it is set.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from datetime import UTC, datetime

from rostro.service.memory import DEFAULT_PIXEL_BUDGET
from rostro.store import resources as store_resources
from rostro.store.db import open_database
from rostro.store.tiers import DEFAULT_TIER, TIERS
from rostro.store.usage import usage_report

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
REQUIRED_MODELS = ("yunet", "sface", "tddfa", "tddfa-bfm")


def positive(kind: type[int] | type[float]):
    """An argparse type: a number of ``kind`` above zero."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be above zero: {text!r}")
        return value
    return parse


def endpoint_url(host: str, port: int) -> str:
    """Return the endpoint as the portal shows it (with its trailing slash)."""
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def keys_and_endpoint(info: store_resources.ResourceInfo, endpoint: str) -> str:
    """Return the "Keys and Endpoint" block printed at start-up."""
    return "\n".join([
        f"Rostro Face API: resource '{info.name}', pricing tier {info.tier}",
        "Keys and Endpoint",
        f"  KEY 1:            {info.key1}",
        "  Location/Region:  local",
        f"  Endpoint:         {endpoint}",
        f"(key 2 and other resources: rostro keys show {info.name})",
    ])


def studio_banner(endpoint: str, new_password: str | None) -> str:
    """Return the Studio lines printed at start-up (the admin password only when just made)."""
    lines = [f"Rostro Studio:      {endpoint}studio"]
    if new_password:
        lines.append(f"  admin password:   {new_password}   (shown only now; change it with "
                     "`rostro admin password`)")
    return "\n".join(lines)


def proxy_options(trusted: list[str] | None) -> dict[str, object]:
    """uvicorn's options for the proxies whose ``X-Forwarded-For``/``-Proto`` are believed.
    None given: no forwarded header is read at all (uvicorn's own default trusts them from
    127.0.0.1, which let any local client pick the address the sign-in throttle counts)."""
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": ",".join(trusted)}


def service_settings(args: argparse.Namespace):
    """The ServiceSettings that `rostro serve`'s options ask for."""
    from rostro.service.settings import ServiceSettings

    return ServiceSettings(
        database=args.database_url,
        allow_private_urls=args.allow_private_urls,
        allowed_hosts=tuple(args.allowed_hosts or ()),
        inference_threads=args.inference_threads,
        fetch_timeout=args.fetch_timeout,
        pixel_budget=args.pixel_budget,
        training_lease=args.training_lease,
        training_poll=args.training_poll,
        blas_threads=args.blas_threads or 0,
    )


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from rostro.api.redaction import redact_root_handlers, uvicorn_log_config
    from rostro.models.cache import ModelCache
    from rostro.server import create_app
    from rostro.service.settings import ENVIRONMENT_VARIABLE
    from rostro.studio.accounts import ensure_admin
    from rostro.vision.analyzer import Analyzer

    settings = service_settings(args)
    cache = ModelCache()
    for name in REQUIRED_MODELS:  # fail here, with the fixing command, not in a worker
        cache.require(name)
    database = open_database(args.database_url)
    with database.transaction() as connection:
        info, created = store_resources.ensure_default(connection)
    studio_password = ensure_admin(database)
    database.close()
    if created:
        print(f"Created resource '{info.name}' ({info.tier}) in {database.location}")
    print(keys_and_endpoint(info, endpoint_url(args.host, args.port)), flush=True)
    print(studio_banner(endpoint_url(args.host, args.port), studio_password), flush=True)
    redact_root_handlers()
    options = dict(host=args.host, port=args.port, log_level=args.log_level,
                   access_log=args.access_log, timeout_keep_alive=30,
                   log_config=uvicorn_log_config(), **proxy_options(args.forwarded_allow_ips))
    if args.workers > 1:
        os.environ[ENVIRONMENT_VARIABLE] = settings.to_json()
        uvicorn.run("rostro.server:app_from_environment", factory=True,
                    workers=args.workers, **options)
    else:
        analyzer = Analyzer(cache)
        analyzer.load_all()
        uvicorn.run(create_app(settings, analyzer), **options)
    return 0


def _print_resource(info: store_resources.ResourceInfo) -> None:
    print(f"name:  {info.name}\ntier:  {info.tier}\nKEY 1: {info.key1}\nKEY 2: {info.key2}")


def _resources_create(args: argparse.Namespace) -> int:
    with open_database().transaction() as connection:
        info = store_resources.create_resource(connection, args.name, args.tier)
    _print_resource(info)
    return 0


def _resources_list(args: argparse.Namespace) -> int:
    with open_database().transaction() as connection:
        infos = store_resources.list_resources(connection)
        sensitive = {i.id: store_resources.sensitive_attributes_enabled(connection, i.id)
                     for i in infos}
    if args.json:
        print(json.dumps([{"name": i.name, "tier": i.tier, "sensitiveAttributes": sensitive[i.id]}
                          for i in infos], indent=2))
        return 0
    print(f"{'NAME':<24} {'TIER':<10} {'SENSITIVE':<10} CREATED")
    for info in infos:
        created = datetime.fromtimestamp(info.created_at, tz=UTC)
        switch = "on" if sensitive[info.id] else "off"
        print(f"{info.name:<24} {info.tier:<10} {switch:<10} {created:%Y-%m-%d %H:%M:%S}Z")
    return 0


def _resources_set(args: argparse.Namespace) -> int:
    if args.tier is None and args.sensitive_attributes is None:
        raise SystemExit("rostro resources set: give --tier and/or --sensitive-attributes")
    with open_database(create=False).transaction() as connection:
        if args.tier is not None:
            store_resources.set_tier(connection, args.name, args.tier)
        if args.sensitive_attributes is not None:
            store_resources.set_sensitive_attributes(connection, args.name,
                                                     args.sensitive_attributes == "on")
        info = store_resources.get_resource(connection, args.name)
        enabled = store_resources.sensitive_attributes_enabled(connection, info.id)
    print(f"{info.name}: tier {info.tier}, sensitive attributes (age, gender, emotion) "
          f"{'on' if enabled else 'off'}")
    return 0


def _keys_show(args: argparse.Namespace) -> int:
    with open_database(create=False).transaction() as connection:
        info = store_resources.get_resource(connection, args.name)
    if args.key:
        print(info.key1 if args.key == 1 else info.key2)
    else:
        print(f"KEY 1: {info.key1}\nKEY 2: {info.key2}")
    return 0


def _keys_regenerate(args: argparse.Namespace) -> int:
    with open_database(create=False).transaction() as connection:
        info = store_resources.regenerate_key(connection, args.name, args.key)
    print(f"KEY {args.key}: {info.key1 if args.key == 1 else info.key2}")
    return 0


def _usage(args: argparse.Namespace) -> int:
    with open_database(create=False).transaction() as connection:
        report = usage_report(connection, args.name)
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
        return 0
    def limit(value):
        return "unlimited" if value is None else f"{value:,}"
    data = report.as_json()
    print(f"resource:            {report.resource} ({report.tier})")
    print(f"calls this {report.rate_window + ':':<9} "
          f"{report.calls_this_second if report.rate_window == 'second' else report.calls_this_minute:,}"
          f" of {limit(report.rate_limit)} (remaining {limit(report.rate_remaining)})")
    if report.rate_window != "minute":
        print(f"calls this minute:   {report.calls_this_minute:,}")
    print(f"calls this month:    {report.calls_this_month:,} of {limit(report.monthly_quota)} "
          f"(remaining {limit(report.month_remaining)}; resets {data['monthResetsAt']})")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve", help="run the Face API service (Azure Face REST v1.0)",
        description="Serve the Azure Face API on HOST:PORT. The first start creates the "
                    "database under $ROSTRO_HOME and a resource 'default' on the F0 tier.")
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--database-url", metavar="URL",
                       help="PostgreSQL database shared by several servers, "
                            "postgresql://USER:PASSWORD@HOST:PORT/DBNAME (default: "
                            "$ROSTRO_DATABASE_URL, else the SQLite file $ROSTRO_HOME/rostro.db)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="server processes (each loads the models)")
    serve.add_argument("--allow-private-urls", action="store_true",
                       help="let image URLs point at private, loopback and link-local addresses")
    serve.add_argument("--allowed-hosts", nargs="+", metavar="HOST",
                       help="hosts (names or addresses) image URLs may use whatever they "
                            "resolve to")
    serve.add_argument("--fetch-timeout", type=positive(float), default=10.0, metavar="SECONDS",
                       help="longest an image URL may take to download, connect, headers "
                            "and body together (default: 10)")
    serve.add_argument("--inference-threads", type=int, default=0, metavar="N",
                       help="images analysed at once per process (default: one per core)")
    serve.add_argument("--pixel-budget", type=positive(int), default=DEFAULT_PIXEL_BUDGET, metavar="PIXELS",
                       help="pixels of images decoded and analysed at once per process, "
                            "which bounds their memory (default: two 4096x4096 photos)")
    serve.add_argument("--training-lease", type=positive(float), default=30.0, metavar="SECONDS",
                       help="a training run whose process has not renewed its lease for this "
                            "long (it died) is taken over by another process (default: 30)")
    serve.add_argument("--training-poll", type=positive(float), default=1.0, metavar="SECONDS",
                       help="how often each process looks for training runs queued by other "
                            "processes (default: 1)")
    serve.add_argument("--forwarded-allow-ips", nargs="+", metavar="ADDRESS",
                       help="reverse proxies (addresses or networks, e.g. 127.0.0.1 or "
                            "10.0.0.0/8; * for any) whose X-Forwarded-For and "
                            "X-Forwarded-Proto headers are believed; default none: the client "
                            "is the connection's peer")
    serve.add_argument("--log-level", default="info",
                       choices=("critical", "error", "warning", "info", "debug"))
    serve.add_argument("--access-log", action="store_true",
                       help="log every request (subscription keys are redacted)")
    serve.set_defaults(handler=_serve)

    resources = commands.add_parser("resources", help="create and list Face resources")
    sub = resources.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = sub.add_parser("create", help="create a resource with two new keys")
    create.add_argument("name")
    create.add_argument("--tier", choices=tuple(TIERS), default=DEFAULT_TIER)
    create.set_defaults(handler=_resources_create)
    listing = sub.add_parser("list", help="list resources and their tiers")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_resources_list)
    change = sub.add_parser(
        "set", help="change a resource's tier or turn its sensitive attributes on or off",
        description="--sensitive-attributes off makes detect refuse age, gender and emotion "
                    "with Azure's 403 UnsupportedFeature (for operators who must not infer "
                    "them); the other attributes keep working.")
    change.add_argument("name")
    change.add_argument("--tier", choices=tuple(TIERS))
    change.add_argument("--sensitive-attributes", choices=("on", "off"))
    change.set_defaults(handler=_resources_set)

    keys = commands.add_parser("keys", help="show or regenerate a resource's keys")
    sub = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = sub.add_parser("show", help="print key 1 and key 2 (or only --key N)")
    show.add_argument("name")
    show.add_argument("--key", type=int, choices=(1, 2))
    show.set_defaults(handler=_keys_show)
    regenerate = sub.add_parser("regenerate", help="replace one key; the other keeps working")
    regenerate.add_argument("name")
    regenerate.add_argument("--key", type=int, choices=(1, 2), required=True)
    regenerate.set_defaults(handler=_keys_regenerate)

    usage = commands.add_parser("usage", help="calls this minute and month, quota and remaining")
    usage.add_argument("name")
    usage.add_argument("--json", action="store_true")
    usage.set_defaults(handler=_usage)
