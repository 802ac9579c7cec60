"""Alembic's environment: always run by :mod:`rcinbox.store.migrate` on a connection it hands over
(``config.attributes["connection"]``, inside its transaction); never from an ``alembic.ini``."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from rcinbox.store.schema import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("rcinbox's migrations run through rcinbox.store.migrate (`rcinbox db upgrade`)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
