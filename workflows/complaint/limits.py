"""How big one run of a complaint's workflow may grow, and how long one of its workflow tasks may take.

A run continues as new (carrying its bounded state) well before Temporal's own history limits, and early
enough that replaying a run from its start stays short: a worker that loses a complaint from its cache (a
restart, a failed task) replays the whole run inside one workflow task. Measured on a 2-core machine under
load, a 4.8 MB run of long messages took 7.4 s to replay against the 10 s default task timeout, and a task
that times out is replayed again from the start: a loop that stops every timer of the complaint. So runs are
cut at 2 MB or 2,000 events, and the task timeout is raised to 60 s (Temporal's limit is 120 s).
"""

from datetime import timedelta

HISTORY_EVENTS_LIMIT = 2_000
HISTORY_BYTES_LIMIT = 2 * 1024 * 1024
TASK_TIMEOUT = timedelta(seconds=60)
