"""Durable state (SQLAlchemy 2 async Core; SQLite by default, or PostgreSQL: :mod:`rcinbox.store.dialects`).

The names below are loaded on first use, so a command that only reads the archive
(:mod:`rcinbox.store.archive_file`) or only needs the records does not import SQLAlchemy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rcinbox.store.chain import ChainReport
    from rcinbox.store.downloads import DownloadQueue
    from rcinbox.store.outbox_queue import Claim, OutboxQueue
    from rcinbox.store.records import (
        Action,
        ArchiveEntry,
        AttachmentRecord,
        AttachmentState,
        DecisionFacts,
        DecisionRecord,
        EscalationRecord,
        MessageState,
        OptState,
        OutboxKind,
        OutboxRow,
        OutboxState,
        PendingDownload,
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
    "DecisionFacts",
    "DecisionRecord",
    "DownloadQueue",
    "EscalationRecord",
    "MessageState",
    "OptState",
    "OutboxKind",
    "OutboxQueue",
    "OutboxRow",
    "OutboxState",
    "PendingDownload",
    "SenderHistory",
    "Store",
    "StoredMessage",
]

_HOME = {
    "ChainReport": "chain",
    "Claim": "outbox_queue",
    "DownloadQueue": "downloads",
    "OutboxQueue": "outbox_queue",
    "Store": "store",
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOME.get(name, 'records')}"), name)
