"""The archive's migrations (Alembic): ``env.py`` and one module per version under ``versions/``."""

from __future__ import annotations

HEAD = "0010"  # the newest migration in versions/: the schema this code reads and writes
