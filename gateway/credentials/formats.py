"""The two ways the gateway secures a credential, and the one check of a format name.

``di`` is a Data Integrity proof (``eddsa-rdfc-2022``) embedded in the JSON-LD;
``jwt`` is a compact JWS of media type ``application/vc+jwt`` (VC-JOSE-COSE).
"""

from __future__ import annotations

from typing import Literal, get_args

from gateway.errors import InvalidInput

ProofFormat = Literal["di", "jwt"]
#: Every proof format, the default first.
PROOF_FORMATS: tuple[ProofFormat, ...] = get_args(ProofFormat)


def proof_format(value: object, pointer: str = "format") -> ProofFormat:
    """``value`` as a proof format.

    :param value: what the caller asked for (a query parameter, form field, option).
    :param pointer: names the input in the error.
    :raises InvalidInput: ``value`` is not one of :data:`PROOF_FORMATS`.
    """
    for known in PROOF_FORMATS:
        if value == known:
            return known
    raise InvalidInput(f"format must be one of {', '.join(PROOF_FORMATS)}", pointer=pointer)
