"""The database schema (SQLAlchemy Core tables), portable between SQLite and PostgreSQL.

Tables and the invariants the database itself enforces:

- ``messages``: one row per inbound message per owner extension; ``UNIQUE(extension_id,
  message_id)`` is *the* deduplication (a redelivered notification cannot insert twice).
  ``state``: received → archived → decided → done, or failed (parked, ``last_error`` says why).
- ``attachments``: one row per MMS attachment and message, ``UNIQUE(message_pk, attachment_id)``;
  ``state`` pending (its download is queued: ``attempts``, ``next_attempt_at``, ``last_error``;
  migration 0005) → stored (with sha256/path/size) or refused (with ``reason``), or failed (parked
  after the download's last attempt, ``reason`` says why). A stored attachment's bytes are a file
  (``path``, relative to DATA_DIR) or, ``path`` NULL, the ``attachment_bodies`` row of its
  ``sha256`` (migration 0010). ``claimed_by``: the replica whose download is in flight.
- ``attachment_bodies``: attachments stored in the database (``RCINBOX_ATTACHMENT_STORAGE=database``),
  content-addressed: one row per distinct content, keyed by its SHA-256 (identical pictures are
  stored once; inserted ``ON CONFLICT DO NOTHING``).
- ``decisions``: the decision record, ``UNIQUE(message_pk)`` (exactly one decision per message),
  with the facts it was taken on, hash-chained for tamper evidence (:mod:`rcinbox.store.chain`).
- ``outbox``: automated texts, ``UNIQUE(message_pk, kind)`` (at most one reply and one escalation
  per inbound message; ``kind`` reply | escalation, ``about``: the sender an escalation is about);
  ``state`` queued → sending → sent | failed | unknown. It is also the replies ledger (per
  counterpart, keyed by ``same_key``, and handle) that ``repeat_after`` and the loop fuse read.
- ``opt_outs``: per number, the latest STOP/START (opted_out | opted_in), with the words and, for a
  fuzzy opt-out the classifier recognised, its confidence.
- ``opt_out_lifts``: the history of opt-outs the owner lifted (migration 0006): the opt-out as it
  stood (when, the words), who lifted it, when and why. Lifting sets the ``opt_outs`` row to
  ``opted_in`` (keyword ``lifted``), so the consent checks allow replies again; a later STOP opts
  out again as any STOP does.
- ``kv``: small service state (sync tokens, subscription ids, watermarks).

On SQLite, the archive's full-text search index (migration 0006, :data:`SEARCH_DDL`): the view
``messages_search`` (per message: the sender's number in the forms people type, the sender's
name, the text), the FTS5 table ``messages_fts`` with that view as its external content, and
triggers on ``messages`` that keep the index in step with every insert, update and delete
(:mod:`rcinbox.store.search` reads it).

The schema is versioned: every change to these tables comes with a migration in
:mod:`rcinbox.store.migrations` (see :mod:`rcinbox.store.migrate`); a test compares this module
with the migrated database. ``messages.before_first_start`` marks a text the very first catch-up
found that was sent before rcinbox first started (archived, never answered).
``messages.announced`` holds the MMS attachments as the notification announced them (parsed at
intake: id, uri, content type, size, and a ``problem`` or ``note``) and ``messages.handed_over_at``
the envelope's ``timestamp``: with the other columns they are the message the worker processes,
so ``raw`` (the envelope as received, hashed by the decision chain) is kept for the archive only.

Every timestamp is stored as UTC (:class:`UtcDateTime`) and read back timezone-aware.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.schema import DDL
from sqlalchemy.types import TypeDecorator

metadata = MetaData()

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
PrimaryKey = BigInteger().with_variant(Integer(), "sqlite")
NUMBER = 64  # phone numbers, short codes, alphanumeric sender ids
ID = 64  # RingCentral ids (strings of digits)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive values are refused on the way in."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _pk() -> Column[int]:
    return Column("id", PrimaryKey, primary_key=True, autoincrement=True)


def _message_fk(*, unique: bool = False, optional: bool = False) -> Column[int]:
    return Column(
        "message_pk",
        PrimaryKey,
        ForeignKey("messages.id", ondelete="SET NULL" if optional else "CASCADE"),
        nullable=optional,
        unique=unique,
    )


messages = Table(
    "messages",
    metadata,
    _pk(),
    Column("extension_id", String(ID), nullable=False),
    Column("message_id", String(ID), nullable=False),
    Column("account_id", String(ID), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("sender", String(NUMBER), nullable=False),
    Column("sender_name", String(255)),
    Column("recipients", JSON, nullable=False),
    Column("receiving_number", String(NUMBER)),
    Column("text", Text, nullable=False),
    Column("conversation_id", String(ID)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("source", String(16), nullable=False),
    Column("raw", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime),
    Column("last_error", Text),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("before_first_start", Boolean, nullable=False, server_default="0"),  # migration 0002
    Column("announced", JSON, nullable=False, server_default="[]"),  # migration 0003
    Column("handed_over_at", UtcDateTime),  # migration 0003
    UniqueConstraint("extension_id", "message_id", name="uq_messages_extension_message"),
    Index("ix_messages_state_due", "state", "next_attempt_at"),
    Index("ix_messages_sender_created", "sender", "created_at"),  # migration 0006 (was: sender)
    Index("ix_messages_received_at", "received_at"),  # migration 0006: today's counts
    Index("ix_messages_extension_sender", "extension_id", "sender", "created_at"),  # migration 0007
)

attachments = Table(
    "attachments",
    metadata,
    _pk(),
    _message_fk(),
    Column("attachment_id", String(ID), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", BigInteger),
    Column("sha256", String(64)),
    Column("path", Text),  # relative to DATA_DIR, chosen by rcinbox
    Column("state", String(16), nullable=False),  # pending | stored | refused | failed
    Column("reason", Text),
    Column("uri", Text, nullable=False),
    Column("stored_at", UtcDateTime, nullable=False),  # queued, then when the outcome was recorded
    Column("attempts", Integer, nullable=False, server_default="0"),  # migration 0005: the download queue
    Column("next_attempt_at", UtcDateTime),  # a pending download's retry time (NULL: due now)
    Column("last_error", Text),  # why the last attempt failed (pending) or the download gave up (failed)
    Column("claimed_by", String(32)),  # migration 0010: the replica whose download is in flight
    UniqueConstraint("message_pk", "attachment_id", name="uq_attachments_message_attachment"),
    Index("ix_attachments_state_due", "state", "next_attempt_at"),
)

attachment_bodies = Table(  # migration 0010: attachments stored in the database, by content
    "attachment_bodies",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("stored_at", UtcDateTime, nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    _pk(),
    _message_fk(unique=True),
    Column("action", String(16), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("reply_text", Text),
    Column("reply_from", String(NUMBER)),
    Column("reply_to", String(NUMBER)),
    Column("handle", String(64), nullable=False),
    Column("facts", JSON, nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("message_sha256", String(64), nullable=False),  # hash chain: see rcinbox.store.chain
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Column("intent", String(16)),  # migration 0004: what the classifier understood (NULL: not classified)
    Column("confidence", Float),
    Column("backend", String(16)),
    Column("reply_kind", String(16)),  # which reply was chosen: "vacation" or an intent's
    Index("ix_decisions_decided_at", "decided_at"),  # migration 0006: today's counts
)

outbox = Table(
    "outbox",
    metadata,
    _pk(),
    _message_fk(),
    Column("extension_id", String(ID), nullable=False),
    Column("from_number", String(NUMBER), nullable=False),
    Column("to_number", String(NUMBER), nullable=False),
    Column("text", Text, nullable=False),
    Column("handle", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # queued | sending | sent | failed | unknown
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime),  # NULL while a send is in flight
    Column("lease_until", UtcDateTime),  # in flight: the claim expires then (a sender died)
    Column("claimed_at", UtcDateTime),  # first claim: reconciliation searches from here
    Column("platform_message_id", String(ID)),
    Column("last_error", Text),
    Column("queued_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("kind", String(16), nullable=False, server_default="reply"),  # migration 0004: reply | escalation
    Column("about", String(NUMBER)),  # an escalation: the sender it is about (same_key)
    Column("claimed_by", String(32)),  # migration 0009: the replica whose claim is in flight
    UniqueConstraint("message_pk", "kind", name="uq_outbox_message_kind"),
    Index("ix_outbox_state_due", "state", "next_attempt_at"),
    Index("ix_outbox_ledger", "to_number", "handle", "queued_at"),
    Index("ix_outbox_about", "about", "kind"),
)

opt_outs = Table(
    "opt_outs",
    metadata,
    Column("number", String(NUMBER), primary_key=True),
    Column("state", String(16), nullable=False),  # opted_out | opted_in
    Column("keyword", String(64), nullable=False),
    _message_fk(optional=True),
    Column("at", UtcDateTime, nullable=False),
    Column("words", Text),  # migration 0004: the text that opted out / in
    Column("confidence", Float),  # the classifier's, for a fuzzy opt-out (NULL: an exact keyword)
)

kv = Table(
    "kv",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

opt_out_lifts = Table(  # migration 0006: the opt-outs the owner lifted, never deleted
    "opt_out_lifts",
    metadata,
    _pk(),
    Column("number", String(NUMBER), nullable=False),  # same_key, as opt_outs.number
    Column("opted_out_at", UtcDateTime, nullable=False),  # the opt-out lifted: when, by which words
    Column("keyword", String(64), nullable=False),
    Column("words", Text),
    Column("confidence", Float),
    _message_fk(optional=True),  # the message that opted out
    Column("lifted_by", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("lifted_at", UtcDateTime, nullable=False),
    Index("ix_opt_out_lifts_number", "number", "lifted_at"),
)

# The full-text search index (SQLite only; migration 0006 runs the same statements). The view is
# the index's external content: each message's number in the forms people type (all its digits,
# the last 10, 7 and 4: "+1 650-555-0100", "6505550100" and "555-0100" all find it), its sender's
# name and its text. The triggers read the view, so the number's forms are written once, here.
SEARCH_DDL = (
    """CREATE VIEW messages_search (id, number, name, text) AS SELECT id,
    CASE WHEN ltrim(sender, '+') <> '' AND ltrim(sender, '+') NOT GLOB '*[^0-9]*'
    THEN ltrim(sender, '+') || ' ' || substr(ltrim(sender, '+'), -10) || ' ' ||
    substr(ltrim(sender, '+'), -7) || ' ' || substr(ltrim(sender, '+'), -4)
    ELSE sender END, coalesce(sender_name, ''), text FROM messages""",
    """CREATE VIRTUAL TABLE messages_fts USING fts5(number, name, text,
    content='messages_search', content_rowid='id', tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, number, name, text)
    SELECT id, number, name, text FROM messages_search WHERE id = new.id; END""",
    """CREATE TRIGGER messages_fts_delete BEFORE DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, number, name, text)
    SELECT 'delete', id, number, name, text FROM messages_search WHERE id = old.id; END""",
    """CREATE TRIGGER messages_fts_unindex BEFORE UPDATE OF sender, sender_name, text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, number, name, text)
    SELECT 'delete', id, number, name, text FROM messages_search WHERE id = old.id; END""",
    """CREATE TRIGGER messages_fts_reindex AFTER UPDATE OF sender, sender_name, text ON messages BEGIN
    INSERT INTO messages_fts (rowid, number, name, text)
    SELECT id, number, name, text FROM messages_search WHERE id = new.id; END""",
)
SEARCH_TABLES = (
    "messages_fts",
    "messages_fts_data",
    "messages_fts_idx",
    "messages_fts_docsize",
    "messages_fts_config",
)

# The full-text search index on PostgreSQL (migration 0008 runs the same statements): a GIN index
# over a stored generated column, ``messages.search_vector`` (stored: ranking reads it instead of
# computing it again per match), of one immutable function of the columns searched: the number's
# forms as the view above makes them, weight A; the name, B; the text, C; accents and case
# folded. Only catalog functions inside, so a restore (pg_dump sets an empty search_path) works.
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
    """ALTER TABLE messages ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (messages_search_vector(sender, sender_name, text)) STORED""",
    "CREATE INDEX ix_messages_search ON messages USING gin (search_vector)",
)
SEARCH_COLUMN = "search_vector"  # messages' tsvector on PostgreSQL (not a column of ``messages`` here)

for _statement in SEARCH_DDL:
    ddl = DDL(_statement)  # type: ignore[no-untyped-call]
    event.listen(metadata, "after_create", ddl.execute_if(dialect="sqlite"))
for _statement in PG_SEARCH_DDL:
    ddl = DDL(_statement)  # type: ignore[no-untyped-call]
    event.listen(metadata, "after_create", ddl.execute_if(dialect="postgresql"))
