"""Domain rules. Services take plain inputs and the acting user, never the request.

Convention: a public service function that changes data is `@atomic` (marketplace/unit_of_work.py):
one unit of work, its own or its caller's. It checks permission, validates, changes state and writes
the outbox rows and audit events; it never commits itself. A domain error rolls the whole unit
back, so nothing is ever half-written.
"""
