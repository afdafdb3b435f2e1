"""Files in and out over HTTP: upload (POST /files), read back (``file(id)``), download by
signed link (GET /files/{id}), refusals (forged or expired links, other users and tenants,
the size cap at its boundary, CSRF headers, anonymous callers) and the purge."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update
from starlette.testclient import TestClient

from gateway.app import Gateway, create_app
from gateway.cli import main
from gateway.db import utcnow
from gateway.files.models import StoredFile
from gateway.files.signing import signed_path
from gateway.sdk import (
    CallerContext,
    FilePurpose,
    NotFound,
    PayloadTooLarge,
    Via,
    download_url,
    export_file,
    open_file,
    purge_expired,
    store_file,
)
from gateway.testing import GraphQLClient

FILE = """query($id: ID!) { file(id: $id) {
  id name size contentType sha256 purpose createdAt expiresAt downloadUrl } }"""
CSV = b"name;email\nAna;ana@example.test\n"


def upload(client: GraphQLClient, data=CSV, name="clients.csv", content_type="text/csv", **extra):
    headers = {"X-CRM-Upload": "1", "Content-Type": content_type, **client.headers(), **extra}
    return client.http.post("/files", params={"name": name}, content=data, headers=headers)


def stored_count(gateway) -> int:
    with gateway.db.reading() as session:
        return session.scalar(select(func.count()).select_from(StoredFile)) or 0


def user_id(gateway, email: str) -> int:
    from gateway.identity.models import User

    with gateway.db.reading() as session:
        return session.scalar(select(User.id).where(User.email == email))


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_upload_read_back_and_download_by_link(as_, app):
    rep1 = as_("rep1")
    r = upload(rep1, name="../../Clientes año.csv")
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["name"] == "Clientes año.csv"
    assert made["size"] == len(CSV) and made["contentType"] == "text/csv"

    found = rep1(FILE, {"id": made["id"]})
    assert found.errors == []
    file = found.data["file"]
    assert file["name"] == "Clientes año.csv" and file["purpose"] == "UPLOAD"
    assert file["sha256"] == made["sha256"] and file["expiresAt"] == made["expiresAt"]

    # A browser opens the link without the Authorization header.
    got = app.get(path_of(file["downloadUrl"]))
    assert got.status_code == 200
    assert got.content == CSV
    assert got.headers["content-type"].startswith("text/csv")
    assert got.headers["x-content-type-options"] == "nosniff"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Clientes%20a%C3%B1o.csv" in disposition
    assert 'filename="Clientes ano.csv"' in disposition
    # The upload's own answer carries a working link too.
    assert app.get(path_of(made["downloadUrl"])).content == CSV


def test_a_forged_or_expired_link_is_refused(as_, app, gateway):
    rep1 = as_("rep1")
    made = upload(rep1).json()
    link = rep1(FILE, {"id": made["id"]}).data["file"]["downloadUrl"]
    parts = urlsplit(link)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    rep2 = user_id(gateway, "rep2@demo.test")

    def status(**changes: str) -> tuple[int, str]:
        r = app.get(parts.path, params={**query, **changes})
        return r.status_code, r.json()["errors"][0]["extensions"]["code"]

    assert status(sig="0" * 64) == (403, "FORBIDDEN")
    assert status(u=str(rep2)) == (403, "FORBIDDEN")  # the signature names the user
    assert status(exp=str(int(query["exp"]) + 3600)) == (403, "FORBIDDEN")
    assert status(exp="soon") == (403, "FORBIDDEN")
    assert status(sig="ñ") == (403, "FORBIDDEN")
    assert status(u="9" * 12) == (403, "FORBIDDEN")
    assert app.get(parts.path).status_code == 403  # no signature at all

    owner = user_id(gateway, "rep1@demo.test")
    pk = int(parts.path.rsplit("/", 1)[1])
    expired = signed_path(gateway.secret_box, pk, owner, utcnow() - timedelta(seconds=1))
    r = app.get(expired)
    assert r.status_code == 403 and "expired" in r.json()["errors"][0]["message"]


def test_other_users_and_tenants_see_nothing(as_, app, gateway):
    made = upload(as_("rep1")).json()
    for other in ("rep2", "manager", "admin", "admin@acme.test"):
        r = as_(other)(FILE, {"id": made["id"]})
        assert r.errors == [] and r.data["file"] is None, other

    # Even a genuine signature for another user answers as if the file did not exist.
    pk = int(urlsplit(made["downloadUrl"]).path.rsplit("/", 1)[1])
    soon = utcnow() + timedelta(minutes=5)
    for email in ("rep2@demo.test", "admin@acme.test"):
        r = app.get(signed_path(gateway.secret_box, pk, user_id(gateway, email), soon))
        assert r.status_code == 404 and r.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    missing = signed_path(gateway.secret_box, pk + 1000, user_id(gateway, "rep1@demo.test"), soon)
    assert app.get(missing).status_code == 404

    # The service API: a job acting for rep2 cannot open it either.
    job = CallerContext.acting_for(gateway, user_id(gateway, "rep2@demo.test"), via=Via.JOB)
    try:
        with pytest.raises(NotFound):
            open_file(job, made["id"])
    finally:
        job.close()


def test_the_size_cap_at_its_boundary(gateway, demo):
    cap = 1000
    capped = Gateway(
        settings=replace(gateway.settings, max_upload_bytes=cap),
        db=gateway.db,
        registry=gateway.registry,
    )
    with TestClient(create_app(capped)) as http:
        rep1 = GraphQLClient(http).login("rep1@demo.test")
        assert upload(rep1, b"x" * cap).status_code == 201
        assert stored_count(gateway) == 1

        too_big = upload(rep1, b"x" * (cap + 1))
        assert too_big.status_code == 413
        assert too_big.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

        # Streamed without a Content-Length: refused while it is read.
        def chunks():
            for _ in range(cap // 100 + 1):
                yield b"y" * 100

        streamed = upload(rep1, chunks())
        assert streamed.status_code == 413
        assert streamed.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        assert stored_count(gateway) == 1  # nothing of the refused uploads was stored

        # The service holds uploads to the same cap.
        job = CallerContext.acting_for(capped, user_id(gateway, "rep1@demo.test"), via=Via.JOB)
        try:
            with pytest.raises(PayloadTooLarge), job.transaction():
                store_file(job, "x.bin", None, iter([b"z" * cap, b"z"]), FilePurpose.UPLOAD)
        finally:
            job.close()
        assert stored_count(gateway) == 1


def test_uploads_may_exceed_the_graphql_body_limit(as_, gateway):
    body = b"z" * (gateway.settings.max_body_bytes + 1)
    r = upload(as_("rep1"), body, name="big.bin", content_type="application/octet-stream")
    assert r.status_code == 201 and r.json()["size"] == len(body)
    # /graphql keeps its own limit.
    big = as_("rep1").http.post(
        "/graphql", content=b" " * len(body), headers={"Content-Type": "application/json"}
    )
    assert big.status_code == 413


def test_csrf_shaped_requests_are_refused(as_, gateway):
    rep1 = as_("rep1")
    headers = {"Content-Type": "text/csv", **rep1.headers()}
    no_header = rep1.http.post("/files", params={"name": "a.csv"}, content=CSV, headers=headers)
    assert no_header.status_code == 400
    assert no_header.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "X-CRM-Upload" in no_header.json()["errors"][0]["message"]

    form = upload(rep1, b"a=1", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415
    multipart = upload(rep1, b"--x--", content_type="multipart/form-data; boundary=x")
    assert multipart.status_code == 415
    assert rep1.http.get("/files").status_code == 405
    assert stored_count(gateway) == 0


def test_anonymous_and_bad_requests_are_refused(app, as_, gateway):
    anonymous = GraphQLClient(app)
    r = upload(anonymous)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    forged = upload(anonymous, Authorization="Bearer not-a-token")
    assert forged.status_code == 401
    assert anonymous(FILE, {"id": "RmlsZTox"}).codes == ["UNAUTHENTICATED"]

    rep1 = as_("rep1")
    empty = upload(rep1, b"")
    assert empty.status_code == 400
    assert empty.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    unnamed = rep1.http.post("/files", content=CSV, headers={"X-CRM-Upload": "1", **rep1.headers()})
    assert unnamed.status_code == 400
    assert rep1(FILE, {"id": "nonsense"}).codes == ["BAD_USER_INPUT"]
    assert stored_count(gateway) == 0


def test_a_job_stores_a_generated_file_its_user_downloads(as_, app, gateway):
    rep1_id = user_id(gateway, "rep1@demo.test")
    job = CallerContext.acting_for(gateway, rep1_id, via=Via.JOB)
    try:
        with job.transaction():
            stored = store_file(
                job, "result.xlsx", "application/vnd.ms-excel", b"PK\x03\x04", FilePurpose.GENERATED
            )
        link = download_url(job, stored)
        exported = export_file(job, stored)
    finally:
        job.close()
    assert link.startswith("/files/")  # no request: a path on the gateway
    assert app.get(link).content == b"PK\x03\x04"
    assert exported.content_base64 == "UEsDBA==" and exported.download_url is not None
    found = as_("rep1")(FILE, {"id": _file_id(stored.id)})
    assert found.data["file"]["purpose"] == "GENERATED"


def _file_id(pk: int) -> str:
    from gateway.graphql.common import global_id

    return global_id("File", pk)


def test_expired_files_are_gone_and_purge_removes_only_them(as_, app, gateway):
    rep1 = as_("rep1")
    keep = upload(rep1, name="keep.csv").json()
    drop = upload(rep1, name="drop.csv").json()
    drop_link = rep1(FILE, {"id": drop["id"]}).data["file"]["downloadUrl"]
    with gateway.db.transaction() as session:
        session.execute(
            update(StoredFile)
            .where(StoredFile.name == "drop.csv")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    # Expired: gone for readers at once, before any purge.
    assert rep1(FILE, {"id": drop["id"]}).data["file"] is None
    assert app.get(path_of(drop_link)).status_code == 404

    with gateway.db.transaction() as session:
        assert purge_expired(session) == 1
    assert stored_count(gateway) == 1
    assert rep1(FILE, {"id": keep["id"]}).data["file"]["name"] == "keep.csv"

    # The scheduled form: everything that will have expired by then.
    with gateway.db.transaction() as session:
        assert purge_expired(session, utcnow() + timedelta(hours=1)) == 0
        assert purge_expired(session, utcnow() + timedelta(days=4)) == 1
    assert stored_count(gateway) == 0


def test_the_purge_command(as_, gateway):
    from click.testing import CliRunner

    upload(as_("rep1"))
    with gateway.db.transaction() as session:
        session.execute(update(StoredFile).values(expires_at=utcnow() - timedelta(seconds=1)))
    env = {"DATABASE_URL": gateway.settings.resolved_database_url}
    result = CliRunner().invoke(main, ["files", "purge"], env=env, catch_exceptions=False)
    assert result.exit_code == 0 and "purged 1 expired file" in result.output
    assert stored_count(gateway) == 0


def test_links_are_absolute_and_die_with_the_account(as_, app, gateway):
    from gateway.identity.models import User

    rep1 = as_("rep1")
    made = upload(
        rep1, b"<script>alert(1)</script>", name="page.html", content_type="text/html"
    ).json()
    link = rep1(FILE, {"id": made["id"]}).data["file"]["downloadUrl"]
    assert link.startswith("http://testserver/files/")
    served = app.get(path_of(link))
    # A hostile type is still only an attachment, never sniffed, and inert if rendered.
    assert served.headers["content-disposition"].startswith("attachment;")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]

    with gateway.db.transaction() as session:
        session.execute(update(User).where(User.email == "rep1@demo.test").values(is_active=False))
    assert app.get(path_of(link)).status_code == 404


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("C:\\Users\\ana\\Clients.xlsx", "Clients.xlsx"),
        ("../../etc/passwd", "passwd"),
        ("..", "file"),
        ("", "file"),
        ("\x00evil\r\n.csv", "_evil__.csv"),
        ("invoice\u202egpj.exe", "invoice_gpj.exe"),
        ("a" * 300 + ".xlsx", "a" * 195 + ".xlsx"),
    ],
)
def test_names_are_made_safe(raw, stored):
    from gateway.files.names import safe_name

    assert safe_name(raw) == stored


def test_media_types_are_labels_only():
    from gateway.files.names import safe_content_type

    assert safe_content_type("Text/CSV; charset=utf-8") == "text/csv"
    assert safe_content_type("text/html\r\nSet-Cookie: x=1") == "application/octet-stream"
    assert safe_content_type(None) == "application/octet-stream"


def test_a_periodic_job_purges_expired_files(as_, gateway):
    """``core.purge_files`` runs hourly without a user (SQLite: the in-process runner's tick;
    PostgreSQL: procrastinate's periodic deferrer runs the same function)."""
    import pytest

    from gateway.files.jobs import KINDS
    from gateway.jobs import Job, run_pending

    assert [k.schedule for k in KINDS] == ["17 * * * *"]
    if not gateway.db.is_sqlite:
        pytest.skip("PostgreSQL ticks come from procrastinate's periodic deferrer")
    rep1 = as_("rep1")
    upload(rep1, name="old.csv")
    upload(rep1, name="new.csv")
    with gateway.db.transaction() as session:
        session.execute(
            update(StoredFile)
            .where(StoredFile.name == "old.csv")
            .values(expires_at=utcnow() - timedelta(hours=1))
        )
    run_pending(gateway, now=utcnow())
    with gateway.db.reading() as session:
        names = session.scalars(select(StoredFile.name)).all()
        purge = session.scalars(select(Job).where(Job.kind == "core.purge_files")).one()
    assert names == ["new.csv"]
    assert purge.result == {"counts": {"deleted": 1}}
