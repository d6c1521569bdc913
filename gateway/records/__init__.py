"""The ``cn-trace/1`` national traceability record model: schemas, readers, paths."""

from gateway.records.paths import SENSITIVE_PATHS, field_paths
from gateway.records.platform_fields import load_platform_fields
from gateway.records.reader import read_record, read_record_file
from gateway.records.schema import MODEL_VERSION

__all__ = [
    "MODEL_VERSION",
    "SENSITIVE_PATHS",
    "field_paths",
    "load_platform_fields",
    "read_record",
    "read_record_file",
]
