"""Durable state (SQLAlchemy 2 async Core; SQLite by default, SQL portable to PostgreSQL)."""

from __future__ import annotations

from rcinbox.store.chain import ChainReport
from rcinbox.store.outbox_queue import Claim, OutboxQueue
from rcinbox.store.records import (
    Action,
    ArchiveEntry,
    AttachmentRecord,
    AttachmentState,
    DecisionRecord,
    EscalationRecord,
    MessageState,
    OptState,
    OutboxKind,
    OutboxRow,
    OutboxState,
    SenderHistory,
    StoredMessage,
)
from rcinbox.store.store import Store

__all__ = [
    "Action",
    "ArchiveEntry",
    "AttachmentRecord",
    "AttachmentState",
    "ChainReport",
    "Claim",
    "DecisionRecord",
    "EscalationRecord",
    "MessageState",
    "OptState",
    "OutboxKind",
    "OutboxQueue",
    "OutboxRow",
    "OutboxState",
    "SenderHistory",
    "Store",
    "StoredMessage",
]
