"""Calling a URL someone gave us: whether it may be called (`targets`: public addresses
only unless allowed, checked again before each request) and the POST itself (`post`:
one time limit for the whole exchange, no redirects, no secret kept from the answer).
Saved searches' deliveries and the alerts both post through it. May import:
`lib.redact`, `lib.errors`.
"""
