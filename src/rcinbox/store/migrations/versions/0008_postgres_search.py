"""The archive's full-text search on PostgreSQL: the function ``messages_search_vector(sender,
sender_name, text)`` (the number's forms, weight A; the name, B; the text, C; accents and case
folded) and a GIN index over it, ``ix_messages_search``. Building the index indexes the archive so
far; PostgreSQL keeps it in step with every insert, update and delete. The statements are those of
``schema.PG_SEARCH_DDL`` (a migration imports nothing from rcinbox; a test compares a migrated
archive with a fresh one). Nothing to do on SQLite (its FTS5 index is migration 0006's).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

PG_SEARCH_DDL = (
    r"""CREATE FUNCTION messages_search_vector(sender text, name text, body text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig,
        CASE WHEN f.number ~ '^[0-9]+$' THEN f.number || ' ' || pg_catalog.right(f.number, 10) || ' '
        || pg_catalog.right(f.number, 7) || ' ' || pg_catalog.right(f.number, 4) ELSE f.sender END), 'A')
    || pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, f.name), 'B')
    || pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, f.body), 'C')
    FROM (SELECT pg_catalog.ltrim(sender, '+') AS number,
        pg_catalog.lower(pg_catalog.regexp_replace(pg_catalog.normalize(coalesce(sender, ''), 'NFD'),
            '[\u0300-\u036f]', '', 'g')) AS sender,
        pg_catalog.lower(pg_catalog.regexp_replace(pg_catalog.normalize(coalesce(name, ''), 'NFD'),
            '[\u0300-\u036f]', '', 'g')) AS name,
        pg_catalog.lower(pg_catalog.regexp_replace(pg_catalog.normalize(coalesce(body, ''), 'NFD'),
            '[\u0300-\u036f]', '', 'g')) AS body) AS f
    $$""",
    """CREATE INDEX ix_messages_search ON messages
    USING gin (messages_search_vector(sender, sender_name, text))""",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_SEARCH_DDL:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_messages_search")
        op.execute("DROP FUNCTION messages_search_vector(text, text, text)")
