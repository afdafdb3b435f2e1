"""The hook contract between the gateway and its modules (contract version 1).

Every hook a plugin may implement is declared here, with the ``crm_`` prefix, grouped by when
the gateway calls it. A plugin is a module or object whose functions carry the
:data:`hookimpl` marker and use these names; it needs to implement only the hooks it uses,
and may accept any subset of the arguments a hook declares (pluggy passes them by name).

Lifecycle, in order:

1. **Identity and registration** — called once per application, at start-up, for every
   installed plugin (whatever the tenants enabled). Duplicate table, type, field, permission
   or entity names fail start-up naming both plugins.
2. **Schema composition** — called once per application; each distinct set of enabled
   modules then gets its own schema, built from the contributions of those modules only.
3. **HTTP routes** — called once per application, for every installed plugin: the routes
   are mounted beside ``/graphql`` whatever the tenants enabled, so each handler resolves
   the tenant from the request itself and checks that its module is on for that tenant.
4. **Demo data** — called by ``crm-gateway serve --demo`` for each demo tenant, only for
   modules enabled in that tenant.
5. **Record events** — called while an operation runs, only for modules enabled in the
   caller's tenant. Hooks that need I/O use the ``session`` of the context they receive;
   pluggy is synchronous, and so is the gateway's execution (one worker thread per request).

See ``docs/plugins.md`` for a worked example and ``tests/test_hookspecs.py`` for the test
that keeps every hookspec documented and tested.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from starlette.routing import BaseRoute
    from strawberry.types.field import StrawberryField

    from gateway.context import CallerContext
    from gateway.contract import (
        AccessControlledEntity,
        DashboardFigure,
        DashboardPeriods,
        JobKind,
        Permission,
        PluginInfo,
        RecordChange,
        TypeField,
    )
    from gateway.demo import DemoTenant
    from gateway.imports.spec import Importer
    from gateway.sheets.template import SheetTemplate

PROJECT = "crm_gateway"
#: Entry-point group third-party plugins are discovered from.
ENTRY_POINT_GROUP = "crm_gateway"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -------------------------------------------------------------------------------------------
# 1. Identity and registration (start-up, every installed plugin)
# -------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def crm_plugin_info() -> PluginInfo:
    """Say who the plugin is: its module name, title, version, dependencies and migrations.

    Every plugin must implement it. The gateway calls each plugin's implementation on its own
    (it is ``firstresult`` only so that a bare ``pm.hook.crm_plugin_info()`` call is
    well-defined); a plugin without it, or two plugins with the same name, fail start-up.

    :returns: The plugin's :class:`~gateway.contract.PluginInfo`.

    Example::

        @hookimpl
        def crm_plugin_info():
            return PluginInfo(name="notes", title="Notes", version="1.0",
                              requires=("contacts",), migrations=Path(__file__).parent / "versions")
    """


@hookspec
def crm_add_hookspecs() -> Sequence[object]:
    """Declare hooks of your own, for the modules built on yours (as pytest's
    ``pytest_addhooks``).

    Called once per application, at start-up, before any hook implementation is checked,
    so modules that require yours can implement your hooks and a misspelt implementation
    still fails start-up. Name your hooks ``crm_<something>`` and document them like the
    kernel's (docstring with ``:param:`` and ``:returns:``, an entry in your module's
    ``docs/modules/<name>.md``, a ``test_hook_<name>`` test); the hook contract test checks
    every module's hookspecs as it checks the kernel's. Call them through
    ``context.hooks.<name>(...)``, which reaches only the modules enabled for the tenant.

    :returns: Modules or classes holding your hookspecs (functions marked with
        :data:`hookspec`).

    Example::

        # plugins/contacts/hookspecs.py
        @hookspec(firstresult=True)
        def crm_web_form_submission(context, target, form_name, owner_id, values): ...

        # plugins/contacts/__init__.py
        @hookimpl
        def crm_add_hookspecs():
            return [contacts_hookspecs]
    """


@hookspec
def crm_models() -> Sequence[type[Any]]:
    """Return the SQLAlchemy models (subclasses of :class:`gateway.db.Base`) the plugin owns.

    Importing them registers their tables on the shared metadata; listing them lets the
    gateway check that no two plugins claim one table name, and that each table has a
    ``tenant_id`` column unless it is a pure link table of tenant-owned rows.

    :returns: A list of mapped classes. Tables must be created by the plugin's migrations.
    """


@hookspec
def crm_permissions() -> Sequence[Permission]:
    """Return the plugin's permission catalogue.

    Codes must start with the plugin name and a dot (``"contacts.set_discount"``); the
    gateway refuses others and refuses a code two plugins declare. Profiles grant these
    codes; root fields declare the one they need with ``guarded(permission=code)`` (in the
    SDL, checked before execution), services check data-dependent ones with
    ``context.require(code)``.

    :returns: A list of :class:`~gateway.contract.Permission`.
    """


@hookspec
def crm_access_controlled() -> Sequence[AccessControlledEntity]:
    """Declare which of the plugin's entities follow per-record access.

    The gateway applies the caller's visibility predicate to every ORM SELECT of these
    models; plugins never write visibility WHERE clauses themselves. Entity keys must be
    unique across plugins, and the named owner/access attributes must exist on the model.

    :returns: A list of :class:`~gateway.contract.AccessControlledEntity`.
    """


@hookspec
def crm_importers() -> Sequence[Importer]:
    """Declare the entities of yours that can be imported from spreadsheets.

    The kernel runs the import (header matching, modes, dry run, row policy, the per-row
    report, undo) as a job of the importing user; your importer says which columns exist,
    how existing records are found, and writes through your own create/update/delete
    services — so an import sees and changes exactly what its user may. Each importer's
    ``entity`` must be one of your access-controlled entities; one importer per entity.

    :returns: A list of :class:`~gateway.imports.spec.Importer`.

    Example::

        @hookimpl
        def crm_importers():
            return [NoteImporter()]
    """


@hookspec
def crm_job_kinds() -> Sequence[JobKind]:
    """Declare the kinds of background job your module runs (imports, reminders, syncs).

    Called once per application, at start-up. Names start with your module's name and a
    dot (``"contacts.import"``) and are unique across plugins. Modules start a job with
    ``gateway.sdk.defer_job(ctx, "contacts.import", params)`` inside the caller's
    transaction; a worker later calls ``kind.run(ctx, job, params)`` as the user who started
    it, in one transaction (all or nothing). A kind whose module the tenant has switched off
    is refused (``MODULE_DISABLED``) at defer time and fails if still queued at run time.

    :returns: A list of :class:`~gateway.contract.JobKind`.

    Example::

        def run_import(ctx, job, params):
            rows = read_rows(ctx, params["file_id"])
            for done, row in enumerate(rows, 1):
                create_contact(ctx, row)
                job.progress(done, len(rows))     # raises when cancelled: all rolls back
            return {"imported": len(rows)}

        @hookimpl
        def crm_job_kinds():
            return [JobKind("contacts.import", run_import, title="Import contacts",
                            permission="contacts.import", max_attempts=3)]
    """


# -------------------------------------------------------------------------------------------
# 2. Schema composition (once; each enabled-module set gets its own schema)
# -------------------------------------------------------------------------------------------


@hookspec
def crm_graphql_types() -> Sequence[type[Any]]:
    """Return Strawberry types to add to the schema even when no field reaches them.

    Types reachable from the plugin's fields are included automatically; list here the
    implementations of interfaces (e.g. ``Node``) and members of unions. A GraphQL type
    name two plugins declare fails start-up.

    :returns: A list of Strawberry-decorated classes.
    """


@hookspec
def crm_query_fields() -> Sequence[StrawberryField]:
    """Return the root ``Query`` fields the plugin contributes.

    Each is a function decorated with ``@strawberry.field``; its GraphQL name (the function
    name in camelCase, or ``name=``) must be unique across plugins. The fields appear only in
    the schemas of tenants that enabled the plugin.

    :returns: A list of :class:`strawberry.types.field.StrawberryField`.

    Example::

        @strawberry.field
        def notes(info: Info) -> list[NoteType]: ...

        @hookimpl
        def crm_query_fields():
            return [notes]
    """


@hookspec
def crm_type_fields() -> Sequence[TypeField]:
    """Return fields to add to other modules' GraphQL object types (``Contact.tasks``).

    Each field is present only in the schemas of tenants where your module is on; a module
    that is off leaves the type as its owner declared it. Resolvers take ``root`` (the parent
    object) and must load for a whole page at once (``context.loader``), never one statement
    per parent. A field name the type already has, or that two modules add, fails start-up;
    so does a type no installed module declares.

    :returns: :class:`gateway.contract.TypeField` objects.

    Example::

        @strawberry.field(description="The contact's notes you may see.")
        def notes(root: ContactNode, info: Info) -> list[NoteType]: ...

        @hookimpl
        def crm_type_fields():
            return [TypeField("Contact", notes)]
    """


@hookspec
def crm_mutation_fields() -> Sequence[StrawberryField]:
    """Return the root ``Mutation`` fields the plugin contributes.

    Each is a function decorated with ``@strawberry.mutation`` returning a payload type
    with an ``errors: [UserError!]!`` list for domain failures. Names must be unique across
    plugins; tenants without the plugin get ``MODULE_DISABLED`` if they call one.

    :returns: A list of :class:`strawberry.types.field.StrawberryField`.
    """


# -------------------------------------------------------------------------------------------
# 3. HTTP routes (once; every installed plugin, whatever the tenants enabled)
# -------------------------------------------------------------------------------------------


@hookspec
def crm_http_routes() -> Sequence[BaseRoute]:
    """Return plain HTTP routes (Starlette) to serve beside ``/graphql``, e.g. webhooks or a
    public form endpoint.

    Called once per application, when it is created, for every installed plugin; the routes
    are added after the gateway's own (``/graphql``, ``/healthz``), so they cannot shadow
    them. Prefix your paths with something your module owns: which of two plugins claiming
    one path answers is not specified. Because the same routes serve every tenant, a
    handler is public and tenant-less until it says otherwise: it must resolve the tenant
    from the request itself (a key in the path, a signed payload…), answer as if the
    resource did not exist when the plugin's module is off for that tenant (check
    ``gateway.tenancy.services.enabled_modules``), and restrict every query to that tenant.
    The :class:`gateway.app.Gateway` is ``request.app.state.gateway``; run database work
    off the event loop (``anyio.to_thread.run_sync``) in ``gateway.db.transaction()`` or
    ``gateway.db.reading()`` — system sessions, which apply no tenant or record filter.

    :returns: A list of :class:`starlette.routing.BaseRoute` (usually ``Route``).

    Example::

        async def receive(request: Request) -> Response:
            gateway = request.app.state.gateway
            found = await anyio.to_thread.run_sync(find_hook, gateway, request.path_params["key"])
            if found is None:  # unknown key, or the module is off for its tenant
                return JSONResponse({"error": "not found"}, status_code=404)
            ...

        @hookimpl
        def crm_http_routes():
            return [Route("/hooks/payments/{key}", receive, methods=["POST"])]
    """


# -------------------------------------------------------------------------------------------
# 4. Demo data (``crm-gateway serve --demo``; enabled modules of each demo tenant)
# -------------------------------------------------------------------------------------------


@hookspec
def crm_demo_data(session: Session, tenant: DemoTenant) -> None:
    """Add the plugin's demo records to a demo tenant.

    Called after the kernel created the tenant, its profiles and its users, inside one
    transaction per tenant, module by module: a module after the modules it requires, so
    its demo records can link theirs (opportunities their contacts). Must be idempotent:
    ``serve --demo`` runs it at every start, so check for your records before adding them.

    :param session: The write session; flush, don't commit.
    :param tenant: The demo tenant: ``tenant.id``, ``tenant.slug``, ``tenant.users``
        (email → :class:`gateway.identity.models.User`) and ``tenant.profiles`` (name →
        profile; grant your permissions with ``gateway.access.services.grant``).
    """


# -------------------------------------------------------------------------------------------
# 5. Record events (per operation; enabled modules of the caller's tenant)
# -------------------------------------------------------------------------------------------


@hookspec
def crm_record_changed(context: CallerContext, change: RecordChange) -> None:
    """React to a record of another module being created, updated or deleted.

    Called inside the acting operation's transaction, after the change is flushed: an
    exception rolls the whole operation back. Keep it quick; queue slow work.

    :param context: Who acts, in which tenant, with which session.
    :param change: What happened: ``kind``, ``entity`` key, the ``record`` and, for updates,
        the names of the changed fields.
    """


@hookspec
def crm_veto_delete(context: CallerContext, entity: str, record: Any) -> str | None:
    """Say whether a record may be deleted; return a reason to refuse it.

    Called before a module deletes a record. Every non-``None`` answer is a veto: the
    deletion is refused with ``CONFLICT`` and the reasons, each naming the vetoing module.

    :param context: Who acts, in which tenant, with which session.
    :param entity: The entity key of the record, e.g. ``"contact"``.
    :param record: The ORM instance about to be deleted.
    :returns: ``None`` to allow, or a human-readable reason to refuse.

    Example::

        @hookimpl
        def crm_veto_delete(context, entity, record):
            if entity == "contact" and invoices_exist(context.session, record.id):
                return "the contact has invoices"
    """


@hookspec
def crm_merge_records(context: CallerContext, entity: str, kept: Any, merged: Any) -> None:
    """Re-point your references from a record being merged away to the record kept.

    Called when two records of ``entity`` are merged (e.g. duplicate contacts), before the
    merged record is deleted, inside the same transaction: update every row of yours that
    refers to ``merged`` so it refers to ``kept`` (invoices of the contact, consent history,
    tasks…). Deletion vetoes do not apply to a merge — your references move instead.

    :param context: Who acts, in which tenant, with which session.
    :param entity: The entity key, e.g. ``"contact"``.
    :param kept: The ORM instance that stays.
    :param merged: The ORM instance about to be deleted.

    Example::

        @hookimpl
        def crm_merge_records(context, entity, kept, merged):
            if entity == "contact":
                context.session.execute(
                    update(Invoice).where(Invoice.contact_id == merged.id)
                    .values(contact_id=kept.id))
    """


# -------------------------------------------------------------------------------------------
# 6. Read-side contributions (per operation; enabled modules of the caller's tenant)
# -------------------------------------------------------------------------------------------


@hookspec
def crm_dashboard_figures(
    context: CallerContext, periods: DashboardPeriods
) -> Sequence[DashboardFigure]:
    """Contribute your module's figures to the ``dashboard`` query.

    Count only what the caller may see: query through ``context.session``, where the record
    access predicate applies to every access-controlled model. Answer in a few statements
    (aggregate with ``count(...) FILTER``/``CASE`` rather than one query per figure). Name in
    ``derived_from`` the fields each figure sums, filters or groups on: the gateway leaves
    the figure out for callers whose field rules hide any of them.

    :param context: Who asks, in which tenant, with which session.
    :param periods: When today, this week and this month started in the organisation's time
        zone (aware UTC datetimes), shared by every module.
    :returns: Your figures; keys are prefixed with your module's name by the gateway.

    Example::

        @hookimpl
        def crm_dashboard_figures(context, periods):
            total, today = context.session.execute(
                select(func.count(), func.count().filter(Note.created_at >= periods.today))
                .select_from(Note)).one()
            return [DashboardFigure("total", "Notes", count=total),
                    DashboardFigure("newToday", "New notes today", count=today,
                                    derived_from=("Note.createdAt",))]
    """


@hookspec
def crm_email_refusals(
    context: CallerContext, entity: str, record_ids: Sequence[int]
) -> Mapping[int, str]:
    """Say which of these records must not be emailed, and why (MISSION K4, K5).

    Every sender of email to clients or leads (mass email, a module's own mailings) asks
    through :func:`gateway.mail.email_refusals` before it sends, so a module that records
    consent or blocks (the consent module) is honoured by senders it does not know. Answer
    in one statement for the whole batch; a record you know nothing about is not refused.

    :param context: Who sends, in which tenant.
    :param entity: The kind of the recipients (``contact``, ``lead``…).
    :param record_ids: The recipients' record ids (at most a few hundred).
    :returns: ``{record_id: reason}`` for each refused record; the reason is shown to the
        sender in the report of skipped recipients.

    Example::

        @hookimpl
        def crm_email_refusals(context, entity, record_ids):
            rows = context.session.execute(select(Block.contact_id, Block.reason)
                .where(Block.contact_id.in_(record_ids))) if entity == "contact" else []
            return {contact_id: reason for contact_id, reason in rows}
    """


@hookspec
def crm_sheet_templates() -> Sequence[SheetTemplate]:
    """Contribute spreadsheet templates (mass management, MISSION M1): one per entity and
    variant (``contact`` / ``company``…), listed by ``sheetTemplates`` and rendered by
    ``downloadSheetTemplate`` for the caller.

    Called per operation through the hooks of the caller's tenant, so a disabled module's
    templates are not offered. Declare columns once (from your field table): header, key,
    required, format; catalogue drop-downs read through the caller's context
    (``SheetColumn.choices_from``), so the caller sees only their tenant's values and what
    their access allows; columns whose ``reads`` the caller's field rules hide are left out.
    An (entity, variant) pair two modules contribute: the first registered wins.

    :returns: :class:`gateway.sheets.SheetTemplate` objects.

    Example::

        @hookimpl
        def crm_sheet_templates():
            return [SheetTemplate("note", "default", "Notes", columns=(
                SheetColumn("Title", "title", required=True, format="Up to 200 characters"),
            ))]
    """
