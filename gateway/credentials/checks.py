"""The outcome of one verification step.

A verifier reports a list of checks rather than raising, so that a failed credential is
an answer (``verified: false`` with reasons, DESIGN §5) and not an error.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One named verification step and its verdict.

    :param id: dotted name of the step, e.g. ``proof.signature`` or ``jsonld.terms``.
    :param ok: whether the step passed.
    :param reason: why it failed (or a short note when it passed).
    """

    id: str
    ok: bool
    reason: str = ""

    def as_dict(self) -> dict[str, object]:
        """The check as a JSON-ready mapping.

        :returns: ``{"id": ..., "ok": ..., "reason": ...}``; ``reason`` only when not empty.
        """
        out: dict[str, object] = {"id": self.id, "ok": self.ok}
        if self.reason:
            out["reason"] = self.reason
        return out
