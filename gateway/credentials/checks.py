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
    :param evaluated: False for a step that had nothing to judge by (an issuer check
        without a trust list): it does not fail the verdict, but it is no pass either
        and is shown as "not evaluated".
    """

    id: str
    ok: bool
    reason: str = ""
    evaluated: bool = True

    def as_dict(self) -> dict[str, object]:
        """The check as a JSON-ready mapping.

        :returns: ``{"id": ..., "ok": ..., "reason": ...}``; ``reason`` only when not empty,
            ``"evaluated": false`` only for a step that was not evaluated.
        """
        out: dict[str, object] = {"id": self.id, "ok": self.ok}
        if self.reason:
            out["reason"] = self.reason
        if not self.evaluated:
            out["evaluated"] = False
        return out
