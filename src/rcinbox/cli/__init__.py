"""The ``rcinbox`` command (:mod:`rcinbox.cli.main`) and what its subcommands show."""
