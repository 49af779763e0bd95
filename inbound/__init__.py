"""Inbound e-mail: residents' replies reach their complaint, and every other message waits in triage.

receiving: `smtp` (the listener) or `imap` (polling a shared mailbox), chosen by INBOUND_MODE; both hand the
raw message to `receive`, which stores it once and routes it (`parse` reads it, `delivery` joins it to its
complaint, `bounces` flags a letter that came back); `triage` is what an officer does with the rest; `store`
holds the SQL. `python -m inbound` runs it as its own process.
"""
