"""contacts: one folded search column per field, instead of one combined search text

The combined ``search_text`` held names, emails, phones, fiscal ID, tags and the company's
name, so a search matched fields the caller's profile hides and the name of a company the
caller cannot see (issue 12). Each field now has its own folded column, searched only when
the caller may read it; the company's name is read on the company itself.

Existing rows are backfilled with the fold the module uses (lower case, accents removed).
``search_text`` is dropped with a plain ``ALTER TABLE … DROP COLUMN`` (SQLite 3.35+): a
batch copy of ``contacts`` would drop the table, and with foreign keys on, cascade the
delete to its emails, phones, tags and custom values.

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


def _joined(parts: Iterable[str]) -> str:
    return _fold(' '.join(p for p in parts if p))


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column('contacts', sa.Column(name, sa.Text(), server_default='', nullable=False))
    _backfill(op.get_bind())
    op.execute('ALTER TABLE contacts DROP COLUMN search_text')


def _backfill(conn: sa.Connection) -> None:
    meta = sa.MetaData()
    contacts = sa.Table(
        'contacts',
        meta,
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('first_name', sa.String),
        sa.Column('last_name', sa.String),
        sa.Column('company_name', sa.String),
        sa.Column('fiscal_id', sa.String),
        *(sa.Column(name, sa.Text) for name in COLUMNS),
    )
    emails = sa.Table(
        'contact_emails', meta, sa.Column('contact_id', sa.Integer), sa.Column('address', sa.String),
        sa.Column('position', sa.Integer), sa.Column('id', sa.Integer),
    )
    phones = sa.Table(
        'contact_phones', meta, sa.Column('contact_id', sa.Integer), sa.Column('number', sa.String),
        sa.Column('digits', sa.String), sa.Column('position', sa.Integer),
        sa.Column('id', sa.Integer),
    )
    links = sa.Table(
        'contact_tag_links', meta, sa.Column('contact_id', sa.Integer), sa.Column('tag_id', sa.Integer)
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
        conn.execute(
            contacts.update().where(contacts.c.id == sa.bindparam('cid')),
            [
                {
                    'cid': r.id,
                    'search_first_name': _fold(r.first_name or ''),
                    'search_last_name': _fold(r.last_name or ''),
                    'search_company_name': _fold(r.company_name or ''),
                    'search_emails': _joined(address_of[r.id]),
                    'search_phones': _joined(phone_parts[r.id]),
                    'search_fiscal_id': _fold(r.fiscal_id or ''),
                    'search_tags': _joined(tag_names[r.id]),
                }
                for r in rows
            ],
        )
        last = ids[-1]


def downgrade() -> None:
    op.add_column('contacts', sa.Column('search_text', sa.Text(), server_default='', nullable=False))
    # the company's name is not restored into its persons' text: the next change of each
    # contact recomputes it (the older code reads it from there)
    op.execute('UPDATE contacts SET search_text = trim(' + " || ' ' || ".join(COLUMNS) + ')')
    for name in reversed(COLUMNS):
        op.execute(f'ALTER TABLE contacts DROP COLUMN {name}')
