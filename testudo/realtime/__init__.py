"""The realtime feed: the durable event log to WebSocket subscribers (docs/realtime.md).

``events`` (SQL and frames), ``router`` (who gets what on this node), ``outbox`` (one
connection's queue), ``channels`` (names), ``market`` (market-data messages), ``core``
(:class:`~actors.realtime.core.Realtime`, the connections' entry point) and ``wiring``
(starting the actors). The actors themselves live in ``actors/``.
"""
