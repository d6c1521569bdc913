"""The media types of a passport as an Asset Administration Shell: the AAS JSON
serialisation and the AASX package (AAS Part 5).

Kept apart from :mod:`gateway.transform.aas` so that the API can negotiate them without
loading basyx (some 10 MB a server process) until a shell is asked for.
"""

from __future__ import annotations

AAS_JSON = "application/aas+json"
AASX = "application/asset-administration-shell-package"
