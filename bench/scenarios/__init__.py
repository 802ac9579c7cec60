"""One module a scenario, each with ``run(quick: bool) -> Scenario`` (see :mod:`bench.contract`)."""
