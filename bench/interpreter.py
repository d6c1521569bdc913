"""Which Python a bench ran on.

CPU time per record depends on how the interpreter was built as well as on the code:
on one 2-core machine, bulk issuance through the API took 13-17 % less CPU under
Debian's ``python3.11`` (built with profile-guided and link-time optimisation) than
under a Python compiled from source with the default options. Every bench names the
interpreter it ran on, so that its figures are compared with figures from the same one.
"""

from __future__ import annotations

import os
import sys


def described() -> str:
    """``Python 3.11.2 (/usr/bin/python3.11)``: the version and the interpreter behind
    the virtual environment."""
    return f"Python {sys.version.split()[0]} ({os.path.realpath(sys.executable)})"
