"""China-side codes and frames: GB/T 34014 battery codes and GB/T 32960.3 telemetry."""

from gateway.codes.gbt34014 import BatteryCode, check_hierarchy, decode
from gateway.codes.tables import CodeTables, load_tables

__all__ = ["BatteryCode", "CodeTables", "check_hierarchy", "decode", "load_tables"]
