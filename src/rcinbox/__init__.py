"""rcinbox: receive, archive and safely auto-answer SMS/MMS on RingCentral numbers."""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
