"""``crm-gateway``: serve, migrate, and administer tenants, users and modules."""

from __future__ import annotations

import contextlib
import difflib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click
from strawberry.printer import print_schema
from uvicorn.config import LOGGING_CONFIG

from gateway import migrate
from gateway.access.services import standard_grants
from gateway.app import Gateway
from gateway.config import Settings
from gateway.errors import GatewayError, PluginError
from gateway.graphql.schema_factory import SchemaFactory
from gateway.identity import services as identity
from gateway.observability.logs import configure_json, uvicorn_config
from gateway.plugins import build_registry
from gateway.tenancy import services as tenancy

SCHEMA_FILE = Path("schema/schema.graphql")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:  # a malformed CRM_* variable: say which, without a traceback
        raise click.ClickException(str(exc)) from exc


def _gateway(settings: Settings | None = None) -> Gateway:
    with _refusals():
        return Gateway.create(settings or _settings())


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """A plugin that cannot load, or whose migrations are missing or not applied: one line
    naming it, not a traceback."""
    try:
        yield
    except (PluginError, migrate.MigrationsPending) as exc:
        raise click.ClickException(str(exc)) from exc


def _fail(exc: GatewayError) -> None:
    raise click.ClickException(f"{exc.code.value}: {exc.message}")


@click.group()
@click.version_option(package_name="crm-gateway")
def main() -> None:
    """CRM gateway: a GraphQL API whose CRM modules are plugins.

    Configuration comes from the environment: DATABASE_URL (PostgreSQL; SQLite under
    CRM_DATA_DIR, default ./data, when unset) and the CRM_* variables in README.md.
    """


@main.command()
@click.option("--demo", is_flag=True, help="Create the demo tenants and users if missing.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option(
    "--trusted-proxies",
    envvar="CRM_TRUSTED_PROXIES",
    default="",
    metavar="ADDRESSES",
    help="Proxies whose X-Forwarded-For is believed: addresses or CIDR networks, "
    "comma-separated (CRM_TRUSTED_PROXIES). Default: none, forwarded headers are ignored.",
)
@click.option(
    "--shutdown-seconds",
    envvar="CRM_SHUTDOWN_SECONDS",
    default=30,
    show_default=True,
    type=int,
    help="On SIGTERM or Ctrl+C, how long requests in flight may take to finish before they "
    "are cut (CRM_SHUTDOWN_SECONDS). New connections are refused at once.",
)
def serve(
    demo: bool,
    host: str,
    port: int,
    workers: int,
    trusted_proxies: str,
    shutdown_seconds: int,
) -> None:
    """Serve the GraphQL API (and GraphiQL) at /graphql with uvicorn; probes at /healthz and
    /readyz."""
    import uvicorn

    # Workers read their settings from the environment: hand them the option's value.
    os.environ["CRM_TRUSTED_PROXIES"] = trusted_proxies
    settings = _settings()
    gateway = _gateway(settings)
    with _refusals():
        if gateway.db.is_sqlite:
            migrate.upgrade(gateway.db.engine, gateway.registry)
        else:
            migrate.check_current(gateway.db.engine, gateway.registry)
    if demo:
        from gateway.demo import DEMO_PASSWORD, DEMO_SIGN_IN, seed_demo

        seed_demo(gateway)
        click.echo("Demo data ready. Sign in as any of:")
        for email, _ in DEMO_SIGN_IN:
            click.echo(f"  {email}")
        click.echo(f"with the password '{DEMO_PASSWORD}'.")
    gateway.db.dispose()
    click.echo(f"GraphiQL: http://{host}:{port}/graphql")
    sys.stdout.flush()
    trusted = list(settings.trusted_proxies)
    level = os.environ.get("CRM_LOG_LEVEL", "info")
    json_logs = settings.log_format == "json"
    with metrics_directory(settings, workers):
        uvicorn.run(
            "gateway.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=level,
            # JSON: every record one JSON line, and the app's request line instead of uvicorn's
            # access log (gateway.observability.logs).
            log_config=uvicorn_config(level) if json_logs else LOGGING_CONFIG,
            access_log=not json_logs,
            # uvicorn believes X-Forwarded-For from loopback peers unless told otherwise, which
            # let any local client pick its address (and dodge the per-address sign-in limit).
            # Only the configured proxies are believed, here (for the access log) and in the
            # app itself (gateway.app._middleware), with the same algorithm.
            proxy_headers=bool(trusted),
            forwarded_allow_ips=trusted or None,
            # SIGTERM: stop accepting, let requests in flight finish (up to this long), then run
            # the app's shutdown (the in-process job runner stops between jobs).
            timeout_graceful_shutdown=shutdown_seconds,
        )


@contextlib.contextmanager
def metrics_directory(settings: Settings, workers: int) -> Iterator[None]:
    """Metrics of several workers add up (prometheus-client's multiprocess mode): each
    writes its samples under ``PROMETHEUS_MULTIPROC_DIR``, which a scrape of any of them
    reads. The operator's directory is emptied first (a previous run's samples would add
    to this one's); with several workers and none set, a temporary one is used."""
    if settings.metrics_token is None:
        yield
        return
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        folder = Path(configured)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        yield
        return
    if workers < 2:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="crm-metrics-") as folder_name:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder_name
        try:
            yield
        finally:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every installed module's migrations (Alembic heads)."""
    gateway = _gateway()
    with _refusals():
        migrate.upgrade(gateway.db.engine, gateway.registry)
    click.echo("database is up to date")


@main.command()
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=int,
    help="Jobs run at once by this worker (one thread and transaction each).",
)
@click.option(
    "--heartbeat-seconds",
    default=10.0,
    show_default=True,
    type=float,
    help="How often the worker says it is alive.",
)
@click.option(
    "--stalled-seconds",
    default=30.0,
    show_default=True,
    type=float,
    help="Silence after which a worker is presumed dead and its jobs are retried.",
)
@click.option("--name", default=None, help="Worker name shown in procrastinate's logs.")
@click.option(
    "--metrics-port",
    envvar="CRM_WORKER_METRICS_PORT",
    default=None,
    type=int,
    help="Serve Prometheus metrics (job runs, the queue) at http://HOST:PORT/metrics; "
    "needs CRM_METRICS_TOKEN, which scrapers send as a bearer token.",
)
@click.option("--metrics-host", default="127.0.0.1", show_default=True)
def worker(
    concurrency: int,
    heartbeat_seconds: float,
    stalled_seconds: float,
    name: str | None,
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Run background jobs until stopped: procrastinate on PostgreSQL (start any number,
    on any machine); on SQLite, the in-process runner (as `serve` does)."""
    import logging
    import signal
    import threading

    settings = _settings()
    level = os.environ.get("CRM_LOG_LEVEL", "info")
    if settings.log_format == "json":
        configure_json(level)
    else:
        logging.basicConfig(level=level.upper())
    if metrics_port is not None and settings.metrics_token is None:
        raise click.ClickException("--metrics-port needs CRM_METRICS_TOKEN (see README)")
    gateway = _gateway(settings)
    with _refusals():
        migrate.check_current(gateway.db.engine, gateway.registry)
    if metrics_port is not None:
        from gateway.observability.scrape import serve_worker_metrics

        serve_worker_metrics(gateway, metrics_host, metrics_port)
        click.echo(f"metrics: http://{metrics_host}:{metrics_port}/metrics")
    if gateway.db.is_sqlite:
        from gateway.jobs.runner import InProcessRunner

        runner = InProcessRunner(gateway)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        runner.start()
        click.echo("running jobs in process (SQLite); Ctrl+C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
        runner.stop()
        gateway.observability.flush()
        return
    from gateway.jobs.engine import WorkerOptions, run_worker

    click.echo("worker started (procrastinate); Ctrl+C to stop")
    sys.stdout.flush()
    run_worker(
        gateway,
        WorkerOptions(
            concurrency=concurrency,
            heartbeat_seconds=heartbeat_seconds,
            stalled_seconds=stalled_seconds,
            name=name,
        ),
    )
    gateway.observability.flush()


@main.group()
def tenant() -> None:
    """Organisations."""


@tenant.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The organisation's display name.")
def tenant_create(slug: str, name: str) -> None:
    """Create a tenant with its built-in profiles."""
    gateway = _gateway()
    try:
        with gateway.db.transaction() as session:
            created = identity.create_tenant(session, slug, name, standard_grants(gateway.registry))
    except GatewayError as exc:
        _fail(exc)
    click.echo(f"tenant {created.slug} created")


@main.group()
def user() -> None:
    """Users."""


@user.command("create")
@click.option("--tenant", "tenant_slug", required=True)
@click.option("--email", required=True)
@click.option("--name", required=True, help="Display name.")
@click.option("--profile", default="Standard", show_default=True)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    envvar="CRM_NEW_USER_PASSWORD",
    help="Prompted for when omitted (or read from CRM_NEW_USER_PASSWORD).",
)
def user_create(tenant_slug: str, email: str, name: str, profile: str, password: str) -> None:
    """Create a user in a tenant."""
    gateway = _gateway()
    try:
        with gateway.db.transaction() as session:
            t = tenancy.get_tenant(session, tenant_slug)
            created = identity.create_user(
                session,
                tenant_id=t.id,
                email=email,
                password=password,
                display_name=name,
                profile=identity.get_profile(session, t.id, profile),
                hash_profile=gateway.settings.password_hash_profile,
            )
    except GatewayError as exc:
        _fail(exc)
    click.echo(f"user {created.email} created in {tenant_slug}")


@main.group()
def module() -> None:
    """Per-tenant module switches."""


@module.command("list")
@click.option("--tenant", "tenant_slug", required=True)
def module_list(tenant_slug: str) -> None:
    """Show every installed module and whether the tenant has it on."""
    gateway = _gateway()
    try:
        with gateway.db.reading() as session:
            t = tenancy.get_tenant(session, tenant_slug)
            states = tenancy.module_states(session, gateway.registry, t.id)
    except GatewayError as exc:
        _fail(exc)
    for s in states:
        flag = "on " if s.enabled else "off"
        needs = f" (requires {', '.join(s.requires)})" if s.requires else ""
        click.echo(f"{flag}  {s.name:<16} {s.version:<10} {s.title}{needs}")


def _switch(tenant_slug: str, name: str, enabled: bool) -> None:
    gateway = _gateway()
    try:
        with gateway.db.transaction() as session:
            t = tenancy.get_tenant(session, tenant_slug)
            changed = tenancy.set_module_enabled(session, gateway.registry, t.id, name, enabled)
    except GatewayError as exc:
        _fail(exc)
    verb = "enabled" if enabled else "disabled"
    click.echo(f"{verb}: {', '.join(changed) or 'nothing changed'}")


@module.command("enable")
@click.argument("name")
@click.option("--tenant", "tenant_slug", required=True)
def module_enable(name: str, tenant_slug: str) -> None:
    """Switch a module on (and the modules it requires)."""
    _switch(tenant_slug, name, True)


@module.command("disable")
@click.argument("name")
@click.option("--tenant", "tenant_slug", required=True)
def module_disable(name: str, tenant_slug: str) -> None:
    """Switch a module off; refused while enabled modules need it."""
    _switch(tenant_slug, name, False)


@main.group()
def files() -> None:
    """Stored files (uploads and generated files)."""


@files.command("purge")
def files_purge() -> None:
    """Delete every file that has expired (CRM_FILE_RETENTION_HOURS after it was stored,
    unless its maker chose another expiry). Safe to run at any time, from cron or a job."""
    from gateway.files.services import purge_expired

    gateway = _gateway()
    with gateway.db.transaction() as session:
        deleted = purge_expired(session)
    click.echo(f"purged {deleted} expired file{'' if deleted == 1 else 's'}")


@main.group()
def plugin() -> None:
    """Writing plugins (third-party modules)."""


@plugin.command("new")
@click.argument("name")
@click.option(
    "--path",
    "target",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder to write the project into (absent or empty). Default: ./crm-NAME.",
)
def plugin_new(name: str, target: Path | None) -> None:
    """Write a module project: package, entry point, model, migration, GraphQL type, query,
    mutation, permission, and tests over HTTP (see docs/plugins.md)."""
    from gateway.scaffold import names, new_plugin

    folder = target or Path(names(name)["dist"] if name.isidentifier() else name)
    try:
        written = new_plugin(name, folder)
    except GatewayError as exc:
        _fail(exc)
    click.echo(f"wrote {len(written)} files into {folder}")
    click.echo(f"next: pip install -e '{folder}[test]' && pytest {folder}")


@main.group()
def schema() -> None:
    """The published GraphQL contract."""


def published_sdl() -> str:
    """The SDL with every built-in module on (third-party plugins are not part of it)."""
    factory = SchemaFactory(build_registry(entry_points=False), Settings())
    return print_schema(factory.full()) + "\n"


@schema.command("export")
@click.option("--output", type=click.Path(path_type=Path), default=SCHEMA_FILE, show_default=True)
@click.option("--check", is_flag=True, help="Fail if the file differs from the code.")
def schema_export(output: Path, check: bool) -> None:
    """Write the composed schema's SDL (or check that the file is current)."""
    sdl = published_sdl()
    if check:
        current = output.read_text() if output.exists() else ""
        if current != sdl:
            diff = difflib.unified_diff(
                current.splitlines(), sdl.splitlines(), str(output), "code", lineterm=""
            )
            click.echo("\n".join(diff), err=True)
            raise click.ClickException(f"{output} is stale: run `crm-gateway schema export`")
        click.echo(f"{output} is current")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(sdl)
    click.echo(f"wrote {output}")
