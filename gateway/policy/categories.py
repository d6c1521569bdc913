"""The categories of battery health and diagnostic data that leave China only under an
export approval.

The 2026 enforcement campaigns check the "outbound transmission of BMS telemetry,
diagnostics, or health data without prior regulatory approval"; the automotive data
export guidelines (2026 edition) admit such a transfer under a security assessment, a
filed standard contract, a certification or one of their exemption scenarios. An
approval names the kinds of data it covers; these are the names. The cross-border policy
table gives each BMS-derived record path one of them (its ``category`` column), and an
approval releases the paths of the categories it lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, TypeGuard, get_args

Category = Literal[
    "state_of_health",
    "state_of_charge",
    "remaining_capacity_energy",
    "capacity_power_fade",
    "internal_resistance",
    "cycles_throughput",
    "negative_events",
    "temperature",
]
#: Every category, in the order lists and pages show them.
CATEGORIES: tuple[Category, ...] = get_args(Category)

#: What each category holds, in words for lists, pages and the documentation.
DESCRIPTIONS: Mapping[Category, str] = MappingProxyType(
    {
        "state_of_health": "state of health (SOH) and state of certified energy (SOCE)",
        "state_of_charge": "state of charge (SOC)",
        "remaining_capacity_energy": (
            "remaining capacity, remaining usable energy and remaining power capability"
        ),
        "capacity_power_fade": (
            "capacity fade, power fade, round-trip efficiency and self-discharge evolution"
        ),
        "internal_resistance": "internal resistance increase and current internal resistance",
        "cycles_throughput": "cycle counts and energy or capacity throughput",
        "negative_events": ("negative events: deep discharges, overcharges, BMS alarms, accidents"),
        "temperature": "temperature exposure: time at extreme temperatures, temperature data",
    }
)


def is_category(value: object) -> TypeGuard[Category]:
    """Whether ``value`` names one of :data:`CATEGORIES`."""
    return isinstance(value, str) and value in CATEGORIES
