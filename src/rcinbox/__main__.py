from __future__ import annotations

from rcinbox.cli import main

main()
