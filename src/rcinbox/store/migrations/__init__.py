"""The archive's migrations (Alembic): ``env.py`` and one module per version under ``versions/``."""
