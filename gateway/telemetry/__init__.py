"""Dynamic passport attributes from GB/T 32960.3 telemetry, as per-battery aggregates."""

from gateway.telemetry.aggregate import BadFrame, UsageAggregator, aggregate_frames
from gateway.telemetry.battery import Parameters, UsageAggregate
from gateway.telemetry.merge import merge_usage, parameters_from_record

__all__ = [
    "BadFrame",
    "Parameters",
    "UsageAggregate",
    "UsageAggregator",
    "aggregate_frames",
    "merge_usage",
    "parameters_from_record",
]
