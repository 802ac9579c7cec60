"""Delivery: how the platform tells its clients that something happened.

``subscriptions`` (the REST resource: event filters, TTLs, one per WebSocket session),
``events`` (which subscriptions hear an event, the envelope, renewal reminders), ``notify`` (the
message events and a sent message's progress), and the two transports a subscription names:
``webhooks`` (validation handshake, ordered delivery, blacklisting) and the WebSocket ``gateway``
with its ``connection`` (frames, ``ClientRequest`` dispatch, heartbeats, timeouts, recovery).
"""
