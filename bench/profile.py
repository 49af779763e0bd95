"""Where the Python CPU of a sampled slice goes: `python -m bench.profile PATH.engine-actions.txt`.

Reads the raw folded stacks that `bench.run --py-spy ... --profile PATH` writes for the staff-action slices
(py-spy `--format raw`: one line per distinct stack, frames joined by `;`, then the sample count) and sorts
every sample into the first part of the service its stack passes through. The bench runs the driver, the
API, the complaint worker and the raw worker in one process, so the parts are told apart by their frames.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

# (part, frame fragments): a sample counts for the first part one of whose fragments is in its stack.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("letter delivery (render, e-mail, outbox)", ("deliver_event",)),
    ("record activity (Postgres transaction)", ("record_event",)),
    ("deadline activities (policy engine)", ("DeadlineActivities",)),
    ("workflow code (ours, in the sandbox)", ("(workflows/", "(domain/")),
    (
        "workflow sandbox and SDK activation",
        ("workflow_sandbox", "_workflow_instance", "worker/_workflow.py"),
    ),
    ("activity worker (decode, encode, codec)", ("worker/_activity.py", "core/codec.py")),
    ("HTTP API (FastAPI, auth, reads, audit)", ("uvicorn/protocols", "(api/", "(store/")),
    ("bench driver (httpx client, Temporal client)", ("httpx/", "temporalio/client", "(bench/measure.py")),
    ("Temporal core bridge", ("temporalio/bridge",)),
)


def parts(path: Path) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        if not stack or not number.isdigit():
            continue
        samples = int(number)
        total += samples
        part = next((name for name, needles in PARTS if any(n in stack for n in needles)), "other")
        counts[part] += samples
    return counts, total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("paths", type=Path, nargs="+")
    args = parser.parse_args(argv)
    for path in args.paths:
        counts, total = parts(path)
        print(f"{path}: {total} samples")
        for name, samples in counts.most_common():
            print(f"  {name:46} {samples:6d}  {100 * samples / max(1, total):5.1f}%")


if __name__ == "__main__":
    main()
