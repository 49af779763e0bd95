"""The `complaints` command line: check policy files and show a stage's deadlines.

complaints policy check policies/*.toml
complaints policy explain policies/bexley.toml --received 2026-12-23
complaints deadlines bexley 2026-12-23
complaints deadlines barking-dagenham 2027-07-02T23:30:00Z --stage 1 --responded 2027-07-20
complaints rebuild-read-model        (uses DATABASE_URL and the Temporal connection settings)
complaints replay-check [--sample 1000] [--closed-within-days 7] [--query '...']
                                     (the gate before a deploy: exit 1 if running complaints would not replay)
complaints move-to-current-code [--dry-run] [--limit N] [--where 'Policy = "bexley"']
                                     (after a deploy: running complaints on an earlier code version continue
                                     as new on this one)
complaints report --year 2027 --policy bexley --out reports/    (uses DATABASE_URL)
complaints doctor                    (each setting and server the service needs, one line each; exit 1 if not)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from core.replay_check import DEFAULT_CLOSED_WITHIN, DEFAULT_SAMPLE
from domain.deadlines import early_resolution_by, plan_stage, response_received_on
from domain.explain import as_text, explain
from domain.policy import Policy, SentBy
from domain.policy_files import PolicyFileError, load_policy_file, read_policy_file

if TYPE_CHECKING:
    from temporalio.client import Client

    from core.settings import Settings


class UsageError(Exception):
    """A problem with the command's arguments, reported without a traceback."""


def _parse_moment(text: str, what: str) -> date | datetime:
    """A local date (YYYY-MM-DD) or an RFC 3339 date-time with an offset or Z."""
    text = text.strip()
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            raise UsageError(f"{what}: {text!r} is not a date (YYYY-MM-DD)") from exc
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"{what}: {text!r} is not a date or an RFC 3339 date-time") from exc
    if moment.tzinfo is None:
        raise UsageError(f"{what}: {text!r} has no UTC offset (add Z or +01:00)")
    return moment


def _load_policy(reference: str, policies_dir: Path | None) -> Policy:
    """A policy by file path (anything ending .toml or naming an existing file) or by id in the folder."""
    path = Path(reference)
    if reference.endswith(".toml") or path.is_file():
        return load_policy_file(path)
    if policies_dir is None:
        from core.settings import get_settings

        policies_dir = get_settings().policies_dir
    path = policies_dir / f"{reference}.toml"
    if not path.is_file():
        known = sorted(candidate.stem for candidate in policies_dir.glob("*.toml"))
        raise UsageError(f"no policy {reference!r} in {policies_dir} (known: {', '.join(known) or 'none'})")
    return load_policy_file(path)


def _check(files: Sequence[Path]) -> int:
    failed = False
    for path in files:
        reading = read_policy_file(path)
        policy = reading.policy
        if policy is None:
            failed = True
            for problem in reading.problems:
                print(problem)
        else:
            stages = ", ".join(f"stage {stage.number}" for stage in policy.stages)
            print(f"{path}: OK ({policy.id}: {policy.name}; {stages})")
        # Issue 28: what the file left unsaid and took from its nation's model file.
        for applied in reading.defaults:
            print(f"{path}: default {applied}")
    return 1 if failed else 0


def _explain(args: argparse.Namespace) -> int:
    """Issue 28: `complaints policy explain FILE`, for a complaints manager to check a file against their
    published procedure without reading TOML."""
    policy = _load_policy(args.policy, args.policies_dir)
    received = _parse_moment(args.received, "--received") if args.received else date.today()
    example = received.date() if isinstance(received, datetime) else received
    print(as_text(explain(policy, example)), end="")
    return 0


def _deadlines(args: argparse.Namespace) -> int:
    policy = _load_policy(args.policy, args.policies_dir)
    if args.stage not in {stage.number for stage in policy.stages}:
        raise UsageError(f"policy {policy.id} has no stage {args.stage}")
    received = _parse_moment(args.received, "received")
    acknowledged = _parse_moment(args.acknowledged, "--acknowledged") if args.acknowledged else None
    responded = _parse_moment(args.responded, "--responded") if args.responded else None
    sent_by = SentBy(args.response_sent_by)
    matter_arose = _parse_moment(args.matter_arose, "--matter-arose") if args.matter_arose else None
    plan = plan_stage(
        policy,
        args.stage,
        received,
        acknowledged=acknowledged,
        responded=responded,
        sent_by=sent_by,
        matter_arose_on=matter_arose if not isinstance(matter_arose, datetime) else matter_arose.date(),
    )

    if plan.extension_limit_by is not None:
        extension = plan.extension_limit_by.isoformat()
    else:
        extension = "none (no limit in the policy)"
    if plan.escalation_request_by is not None:
        escalation = plan.escalation_request_by.isoformat()
    elif policy.stage(args.stage).escalation_request is None:
        escalation = "none (last stage)"
    else:
        escalation = "not yet (give --responded)"
    print(f"policy: {policy.id} ({policy.name}), stage {args.stage}")
    print(f"day_zero: {plan.day_zero.isoformat()}")
    early = early_resolution_by(policy, received) if args.stage == 1 else None
    if early is not None:  # issue 28: the early-resolution step before Stage 1
        print(
            f"early_resolution_by: {early.isoformat()} (Stage 1's dates below count from the receipt given)"
        )
    print(f"acknowledge_by: {plan.acknowledge_by.isoformat()}")
    print(f"respond_by: {plan.respond_by.isoformat()}")
    print(f"extension_limit_by: {extension}")
    if responded is not None:
        print(f"response_received_on: {response_received_on(policy, responded, sent_by).isoformat()}")
    print(f"escalation_request_by: {escalation}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="complaints", description="Complaint lifecycle service tools.")
    commands = parser.add_subparsers(dest="command", required=True)

    policy = commands.add_parser("policy", help="Work with council policy files.")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    check = policy_commands.add_parser("check", help="Validate policy files; exit 1 on any problem.")
    check.add_argument("files", nargs="+", type=Path, metavar="file", help="Policy files (*.toml).")
    # --- issue 28: the policy in plain English ---
    explain = policy_commands.add_parser(
        "explain",
        help="Print what a policy file means in plain English, with a worked example date per window.",
    )
    explain.add_argument("policy", help="A policy file, or a policy id in the policies folder.")
    explain.add_argument(
        "--received", help="The example complaint's date of receipt (YYYY-MM-DD; default today)."
    )
    explain.add_argument("--policies-dir", type=Path, default=None, help="Folder of policy files.")

    deadlines = commands.add_parser("deadlines", help="Show a stage's deadlines under a policy.")
    deadlines.add_argument("policy", help="A policy id (looked up in the policies folder) or a policy file.")
    deadlines.add_argument(
        "received", help="Receipt of the complaint (or of the Stage 2 request): a date or RFC 3339 date-time."
    )
    deadlines.add_argument("--stage", type=int, default=1, choices=(1, 2), help="Stage number (default 1).")
    deadlines.add_argument("--acknowledged", help="When the stage was acknowledged (date or date-time).")
    deadlines.add_argument("--responded", help="When the stage's response was sent (date or date-time).")
    deadlines.add_argument(
        "--matter-arose", help="When the matter arose or came to the complainant's notice (a date)."
    )
    deadlines.add_argument(
        "--response-sent-by",
        choices=[sent_by.value for sent_by in SentBy],
        default=SentBy.EMAIL.value,
        help="How the response was sent (post reaches the complainant later; default email).",
    )
    deadlines.add_argument(
        "--policies-dir",
        type=Path,
        default=None,
        help="Folder of policy files (default: the service setting).",
    )
    commands.add_parser(
        "rebuild-read-model",
        help="Rewrite the case rows and event trail from the workflows (DATABASE_URL, TEMPORAL_ADDRESS).",
    )
    replay = commands.add_parser(
        "replay-check",
        help="Replay running and recently closed complaints against this code; exit 1 on non-determinism.",
    )
    replay.add_argument(
        "--sample",
        type=int,
        default=DEFAULT_SAMPLE,
        help=f"At most this many histories: the oldest and newest runs of every code version (default"
        f" {DEFAULT_SAMPLE}).",
    )
    replay.add_argument(
        "--closed-within-days",
        type=int,
        default=DEFAULT_CLOSED_WITHIN.days,
        help=f"Also closed complaints closed this recently (default {DEFAULT_CLOSED_WITHIN.days}).",
    )
    replay.add_argument(
        "--query",
        default=None,
        help="A visibility query instead of the default (running, or closed within --closed-within-days).",
    )
    move = commands.add_parser(
        "move-to-current-code",
        help="After a deployment: running complaints that started on an earlier code version continue as new"
        " on this one (docs/upgrading.md); exit 1 if any could not be signalled.",
    )
    move.add_argument("--limit", type=int, default=None, help="At most this many complaints (default: all).")
    move.add_argument("--dry-run", action="store_true", help="List them by code version; signal none.")
    move.add_argument(
        "--where",
        default=None,
        help='Only complaints matching this visibility condition (Policy = "bexley").',
    )
    report = commands.add_parser(
        "report",
        help="Write a financial year's performance CSV, annual report and self-assessment (DATABASE_URL).",
    )
    report.add_argument(
        "--year", type=int, required=True, help="Financial year starting 1 April of this year."
    )
    report.add_argument(
        "--policy", help="A council's policy id (default: every council, no self-assessment)."
    )
    report.add_argument("--service-area", help="Only this service area in the CSV.")
    report.add_argument("--out", type=Path, default=Path("."), help="Folder to write into (default: here).")
    report.add_argument("--database-url", help="Database to read (default: the DATABASE_URL setting).")
    commands.add_parser(
        "doctor",
        help="Check every setting and server the service needs (PostgreSQL, Temporal, JWKS, keys, policies);"
        " one line each with what to fix, exit 1 if any fails.",
    )
    return parser


def _report(args: argparse.Namespace) -> int:
    import asyncio
    from datetime import UTC

    from core.settings import get_settings
    from reporting.files import write_reports
    from store.db import create_pool

    if not 2000 <= args.year <= 2100:
        raise UsageError(f"--year: {args.year} is not a year between 2000 and 2100")
    database_url = args.database_url or get_settings().database_url
    if not database_url:
        raise UsageError("DATABASE_URL (or --database-url) must name the database to report from")
    # By id in the policies folder, or a policy file.
    policy = _load_policy(args.policy, None) if args.policy else None

    async def run() -> list[Path]:
        pool = await create_pool(database_url)
        try:
            return await write_reports(
                pool,
                out=args.out,
                year=args.year,
                policy=policy,
                generated_on=datetime.now(UTC).date(),
                service_area=args.service_area,
            )
        finally:
            await pool.close()

    for path in asyncio.run(run()):
        print(f"wrote {path}")
    return 0


def _rebuild() -> int:
    import asyncio

    from core.settings import get_settings
    from domain.policy_files import load_policies
    from store.db import create_pool, database_ssl, migrate
    from store.rebuild import rebuild_read_model

    settings = get_settings()
    if not settings.database_url:
        raise UsageError("DATABASE_URL must name the database to rebuild into")
    database_url = settings.database_url

    async def run() -> int:
        pool = await create_pool(database_url, ssl=database_ssl(settings))
        try:
            await migrate(pool)
            client = await _connect_or_explain(settings)
            policies = load_policies(settings.policies_dir)
            return await rebuild_read_model(client, pool, policies=policies)
        finally:
            await pool.close()

    print(f"rebuilt {asyncio.run(run())} complaints")
    return 0


async def _connect_or_explain(settings: Settings) -> Client:
    """The configured Temporal client; a missing or broken connection setting is a usage error."""
    from core.temporal import TemporalConfigError, connect

    try:
        return await connect(settings=settings)
    except TemporalConfigError as exc:
        raise UsageError(str(exc)) from exc


def _replay_check(args: argparse.Namespace) -> int:
    import asyncio
    from datetime import timedelta

    import worker
    from core.replay_check import default_query, replay_check
    from core.settings import get_settings

    if args.sample < 1:
        raise UsageError("--sample must be at least 1")
    workflows = list(worker.WORKFLOWS)
    query = args.query or default_query(workflows, closed_within=timedelta(days=args.closed_within_days))

    async def run() -> int:
        client = await _connect_or_explain(get_settings())
        print(f"replaying up to {args.sample} histories from namespace {client.namespace}: {query}")
        report = await replay_check(client, workflows, query=query, sample=args.sample)
        for version, seen in sorted(report.versions.items()):
            oldest = seen.oldest_start.date().isoformat() if seen.oldest_start else "-"
            print(
                f"code version {version}: {seen.runs} runs (oldest started {oldest}),"
                f" {seen.replayed} replayed"
            )
        for failure in report.failures:
            print(f"NOT REPLAYABLE {failure.workflow_id} (run {failure.run_id}): {failure.error}")
        if not report.replayed:
            print("no workflow matched the query: nothing to replay")
        elif report.passed:
            print(f"replayed {report.replayed} histories: every one replays with this code")
        else:
            print(
                f"{len(report.failures)} of {report.replayed} histories do not replay with this code: "
                "do not deploy it (put the change behind workflow.patched)"
            )
        return 0 if report.passed else 1

    return asyncio.run(run())


def _move_to_current_code(args: argparse.Namespace) -> int:
    import asyncio

    import worker
    from core.code_moves import behind_query, move_to_current_code
    from core.settings import get_settings
    from workflows.complaint.version import CODE_VERSION

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    workflows = list(worker.WORKFLOWS)

    async def run() -> int:
        client = await _connect_or_explain(get_settings())
        query = behind_query(workflows, CODE_VERSION, args.where)
        print(f"complaints not on code version {CODE_VERSION}: {query}")
        moves = await move_to_current_code(
            client, workflows, CODE_VERSION, where=args.where, limit=args.limit, dry_run=args.dry_run
        )
        verb = "would move" if args.dry_run else "moved"
        for version, ids in sorted(moves.signalled.items()):
            print(f"code version {version}: {verb} {len(ids)} complaints")
        for workflow_id, error in moves.failed.items():
            print(f"NOT MOVED {workflow_id}: {error}")
        print(f"{verb} {moves.count} complaints to code version {CODE_VERSION}")
        return 1 if moves.failed else 0

    return asyncio.run(run())


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "policy" and args.policy_command == "explain":
            return _explain(args)
        if args.command == "policy":
            return _check(args.files)
        if args.command == "rebuild-read-model":
            return _rebuild()
        if args.command == "replay-check":
            return _replay_check(args)
        if args.command == "move-to-current-code":
            return _move_to_current_code(args)
        if args.command == "report":
            return _report(args)
        if args.command == "doctor":
            from cli.doctor import doctor

            return doctor()
        return _deadlines(args)
    except UsageError as exc:
        print(f"complaints: error: {exc}", file=sys.stderr)
        return 2
    except PolicyFileError as exc:  # the policy could not be loaded: its problems, no traceback
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
