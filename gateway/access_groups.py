"""The Annex XIII access groups a passport's attributes fall into.

One credential is issued per non-empty group, and a caller's role decides which groups
it may read (DESIGN §5). Which catalog attributes fall into which group is the
catalog's business (``gateway.vocab.catalog``).
"""

from __future__ import annotations

from typing import Literal, TypeGuard, get_args

AccessGroup = Literal["public", "legitimate_interest", "authorities"]
PUBLIC: AccessGroup = "public"
LEGITIMATE_INTEREST: AccessGroup = "legitimate_interest"
AUTHORITIES: AccessGroup = "authorities"
#: Every group, widest audience first (the order of credentials and page sections).
ACCESS_GROUPS: tuple[AccessGroup, ...] = get_args(AccessGroup)


def is_access_group(value: object) -> TypeGuard[AccessGroup]:
    """Whether ``value`` names one of :data:`ACCESS_GROUPS`."""
    return value in ACCESS_GROUPS
