"""The REST resources the emulator serves, each a :class:`~rcinbox.emulator.routing.Routes` table:
``tokens`` (OAuth), ``accounts``, ``account_numbers``, ``directory``, ``messages`` (with ``sync``,
``sending``, ``inbound``, ``compose``) and their shared helpers ``filters``, ``paging`` and
``sync_tokens``.
The subscriptions resource belongs to :mod:`rcinbox.emulator.push`."""
