from __future__ import annotations

from rcinbox.cli.main import main

main()
