"""The running service: :class:`rcinbox.service.app.Service` wires the foundation, the platform,
the rules, the store and the transports into the pipeline, the outbox and the catch-up."""
