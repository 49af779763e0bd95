"""The worker's interceptor for operations: each activity attempt logs with its complaint's reference, and a
failed attempt is counted (`complaints_activity_failures_total{activity=...}`, core/metrics.py)."""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from core.logs import LogContext, logging_context, reference_of
from core.metrics import ACTIVITY_FAILURES


class _ObservedActivity(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        context = LogContext(reference=reference_of(info.workflow_id), workflow_id=info.workflow_id)
        with logging_context(context):
            try:
                return await super().execute_activity(input)
            except BaseException as error:
                # A heartbeat-timeout cancellation or a worker shutting down is not the activity failing.
                if isinstance(error, Exception):
                    ACTIVITY_FAILURES.labels(info.activity_type).inc()
                raise


class ObservabilityInterceptor(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ObservedActivity(next)
