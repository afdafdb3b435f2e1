"""contacts: one folded search column per field; the combined search text without the company

``search_text`` held names, emails, phones, fiscal ID, tags *and the company's name*, so a
search matched fields the caller's profile hides and the name of a company the caller
cannot see (issue 12). It now holds the contact's own searched fields only (for callers who
may read them all), and each field also has its own folded column (for callers whose
profile hides some); the company's name is read on the company itself.

Existing rows are recomputed with the fold the module uses (lower case, accents removed).

Revision ID: contacts_0003
Revises: contacts_0002
Create Date: 2026-11-23 09:00:00
"""
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'contacts_0003'
down_revision: str | Sequence[str] | None = 'contacts_0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: In the order ``search_text`` joins them.
COLUMNS = (
    'search_first_name',
    'search_last_name',
    'search_company_name',
    'search_emails',
    'search_phones',
    'search_fiscal_id',
    'search_tags',
)
BATCH = 1000


def _fold(text: str) -> str:
    """As ``plugins.contacts.validation.fold`` (copied: a migration must not change later)."""
    decomposed = unicodedata.normalize('NFKD', text)
    return ''.join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def _joined(parts: Iterable[str | None]) -> str:
    return _fold(' '.join(p for p in parts if p))


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column('contacts', sa.Column(name, sa.Text(), server_default='', nullable=False))
    _recompute(op.get_bind())


def _recompute(conn: sa.Connection) -> None:
    meta = sa.MetaData()
    contacts = sa.Table(
        'contacts',
        meta,
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('first_name', sa.String),
        sa.Column('last_name', sa.String),
        sa.Column('company_name', sa.String),
        sa.Column('fiscal_id', sa.String),
        sa.Column('search_text', sa.Text),
        *(sa.Column(name, sa.Text) for name in COLUMNS),
    )
    emails = sa.Table(
        'contact_emails', meta, sa.Column('id', sa.Integer), sa.Column('contact_id', sa.Integer),
        sa.Column('address', sa.String), sa.Column('position', sa.Integer),
    )
    phones = sa.Table(
        'contact_phones', meta, sa.Column('id', sa.Integer), sa.Column('contact_id', sa.Integer),
        sa.Column('number', sa.String), sa.Column('digits', sa.String),
        sa.Column('position', sa.Integer),
    )
    links = sa.Table(
        'contact_tag_links', meta, sa.Column('contact_id', sa.Integer),
        sa.Column('tag_id', sa.Integer),
    )
    tags = sa.Table('contact_tags', meta, sa.Column('id', sa.Integer), sa.Column('name', sa.String))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(
                contacts.c.id,
                contacts.c.first_name,
                contacts.c.last_name,
                contacts.c.company_name,
                contacts.c.fiscal_id,
            )
            .where(contacts.c.id > last)
            .order_by(contacts.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        ids = [r.id for r in rows]
        address_of: dict[int, list[str]] = defaultdict(list)
        for cid, address in conn.execute(
            sa.select(emails.c.contact_id, emails.c.address)
            .where(emails.c.contact_id.in_(ids))
            .order_by(emails.c.contact_id, emails.c.position, emails.c.id)
        ):
            address_of[cid].append(address)
        phone_parts: dict[int, list[str]] = defaultdict(list)
        for cid, number, digits in conn.execute(
            sa.select(phones.c.contact_id, phones.c.number, phones.c.digits)
            .where(phones.c.contact_id.in_(ids))
            .order_by(phones.c.contact_id, phones.c.position, phones.c.id)
        ):
            phone_parts[cid] += [number, digits]
        tag_names: dict[int, list[str]] = defaultdict(list)
        for cid, name in conn.execute(
            sa.select(links.c.contact_id, tags.c.name)
            .join(tags, tags.c.id == links.c.tag_id)
            .where(links.c.contact_id.in_(ids))
            .order_by(links.c.contact_id, links.c.tag_id)
        ):
            tag_names[cid].append(name)
        updates = []
        for r in rows:
            values = {
                'search_first_name': _joined([r.first_name]),
                'search_last_name': _joined([r.last_name]),
                'search_company_name': _joined([r.company_name]),
                'search_emails': _joined(address_of[r.id]),
                'search_phones': _joined(phone_parts[r.id]),
                'search_fiscal_id': _joined([r.fiscal_id]),
                'search_tags': _joined(tag_names[r.id]),
            }
            values['search_text'] = _joined(values[name] for name in COLUMNS)
            updates.append({'cid': r.id, **values})
        conn.execute(contacts.update().where(contacts.c.id == sa.bindparam('cid')), updates)
        last = ids[-1]


def downgrade() -> None:
    # search_text keeps the contacts' own fields; each contact's next change adds its
    # company's name back, as the older code did
    for name in reversed(COLUMNS):
        op.drop_column('contacts', name)
