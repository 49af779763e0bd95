"""The short fault run of `make chaos` (the full one: 300 complaints, five kills, Temporal and PostgreSQL
stopped): real servers on loopback, the worker killed with kill -9 twice while clients create and
acknowledge complaints. Nothing a client was told of is lost, duplicated or left half done."""

from __future__ import annotations

from chaos.run import main_async, parse


async def test_killing_the_worker_under_load_loses_and_doubles_nothing() -> None:
    [report] = await main_async(parse(["--complaints", "30", "--worker-kills", "2", "--phases", "worker"]))
    print(report.line())  # noqa: T201
    findings = report.findings
    assert len(report.tally.told_exists) == 30
    assert len(report.tally.told_acknowledged) == 30
    assert report.tally.statuses[500] == 0
    assert findings.lost == [] and findings.not_acknowledged == []
    assert findings.missing == [] and findings.duplicated == []
    assert findings.orphaned == [] and findings.failed_workflows == []
    assert findings.stuck_letters == [] and findings.timers_fired is True
