"""Domain rules. Services take plain inputs and the acting user, never the request.

Convention: a public service function is one unit of work. It checks permission, validates,
changes state, writes the outbox rows and audit events, and commits. On a domain error it raises
before anything was written (or rolls back), so nothing is ever half-written.
"""
