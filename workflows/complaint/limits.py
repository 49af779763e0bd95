"""How big one run of a complaint's workflow may grow, and how long one of its workflow tasks may take.

A run continues as new (carrying its bounded state) well before Temporal's own history limits, and early
enough that replaying a run from its start stays short: a worker that loses a complaint from its cache (a
restart, a failed task) replays the whole run inside one workflow task. Measured on a 2-core machine under
load, a 4.8 MB run of long messages took 7.4 s to replay against the 10 s default task timeout, and a task
that times out is replayed again from the start: a loop that stops every timer of the complaint. So runs are
cut at 2 MB or 2,000 events, and the task timeout is raised to 60 s (Temporal's limit is 120 s).

The first run is the exception. A task that no worker answers (a worker that died holding it, a poll answer
the server recorded and the worker never got, as happens on a loaded server) is handed out again only once
the task timeout has passed, and the intake's caller waits for the first task (api/intake.py OPEN_TIMEOUT,
20 s, then a 503): with 60 s, every lost first task was a resident or officer told to come back, for a
complaint opened a minute later anyway. So the intake starts the first run with Temporal's default 10 s, and
that run is cut small enough to replay well inside it (256 KB or 300 events: about 0.4 s at the rate
measured above); the run it continues as gets the long timeout. Most complaints end inside their first run
(the README's walk-through: 66 events, 27 KB).
"""

from datetime import timedelta

HISTORY_EVENTS_LIMIT = 2_000
HISTORY_BYTES_LIMIT = 2 * 1024 * 1024
TASK_TIMEOUT = timedelta(seconds=60)

OPENING_TASK_TIMEOUT = timedelta(seconds=10)
OPENING_RUN_EVENTS_LIMIT = 300
OPENING_RUN_BYTES_LIMIT = 256 * 1024
