"""Check an evidence package of the CN-EU battery passport gateway.

This file is shipped inside every evidence package as ``check.py``; it needs Python 3.8
or newer and nothing outside the standard library, so an inspector can run it on any
machine::

    unzip evidence-CODE.zip -d evidence
    python3 evidence/check.py evidence      # or: python3 check.py evidence-CODE.zip

It checks that every file listed in ``manifest.json`` is present with the SHA-256 and
size given there, that no file is unlisted, and recomputes the hash of every audit event
in ``audit.json`` from its ``prev_hash`` and its fields. It prints one line per problem
and exits with status 0 only when there is none.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
AUDIT = "audit.json"


def read_package(target: str | Path) -> dict[str, bytes]:
    """The files of a package, from its ZIP file or the folder it was unzipped into.

    :param target: the ``.zip`` file or the folder.
    :returns: file contents by path inside the package.
    """
    target = Path(target)
    if target.is_file():
        with zipfile.ZipFile(target) as archive:
            return {
                info.filename: archive.read(info)
                for info in archive.infolist()
                if not info.is_dir()
            }
    return {
        path.relative_to(target).as_posix(): path.read_bytes()
        for path in sorted(target.rglob("*"))
        if path.is_file()
    }


def audit_hash(entry: dict[str, Any]) -> str:
    """The hash an audit event must carry: SHA-256 of its ``prev_hash`` followed by the
    canonical JSON (keys sorted, no spaces, UTF-8) of ``at, actor, action, subject, data``.

    :param entry: one event of ``audit.json``.
    :returns: the hex digest.
    """
    event = {key: entry[key] for key in ("at", "actor", "action", "subject", "data")}
    text = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((entry["prev_hash"] + text).encode("utf-8")).hexdigest()


def check(files: dict[str, bytes]) -> list[str]:
    """Every problem found in a package.

    :param files: the package's files (see :func:`read_package`).
    :returns: one message per problem; empty when the package holds.
    """
    if MANIFEST not in files:
        return [f"{MANIFEST} is missing"]
    manifest = json.loads(files[MANIFEST])
    problems = []
    listed = set()
    for item in manifest["files"]:
        path = item["path"]
        listed.add(path)
        content = files.get(path)
        if content is None:
            problems.append(f"{path}: listed in {MANIFEST} but missing")
            continue
        digest = hashlib.sha256(content).hexdigest()
        if digest != item["sha256"]:
            problems.append(f"{path}: SHA-256 is {digest}, {MANIFEST} says {item['sha256']}")
        if len(content) != item["bytes"]:
            problems.append(f"{path}: {len(content)} bytes, {MANIFEST} says {item['bytes']}")
    for path in sorted(set(files) - listed - {MANIFEST}):
        problems.append(f"{path}: not listed in {MANIFEST}")
    if AUDIT in files:
        last_id = 0
        for entry in json.loads(files[AUDIT])["entries"]:
            # A purged event (retention cleared its details) links the chain by its
            # digests only; its own hash cannot be recomputed from what is left.
            if not entry.get("purged") and audit_hash(entry) != entry["hash"]:
                problems.append(
                    f"{AUDIT}: event {entry['id']} ({entry['action']}): its "
                    "fields do not give its hash"
                )
            if entry["id"] <= last_id:
                problems.append(f"{AUDIT}: event {entry['id']} is out of order")
            last_id = entry["id"]
    return problems


def main(argv: list[str]) -> int:
    target = argv[1] if len(argv) > 1 else Path(__file__).resolve().parent
    problems = check(read_package(target))
    for problem in problems:
        print(problem)
    if not problems:
        print(
            "evidence package intact: every file matches manifest.json and every audit "
            "event matches its hash"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
