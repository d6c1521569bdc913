"""What a server worker loads: the libraries that only some requests need are imported by
those requests, so a worker that issues and verifies in bulk stays small (``bench/api.py``
measures its memory over a long run)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from gateway.settings import Settings
from gateway.store.db import head_revision, shipped_head
from tests.helpers import ROOT, make_app

#: Loaded on first use only: Alembic (migrating, at a database's first start), biip (a
#: record or request with a GTIN), pyoxigraph (a credential the direct N-Quads do not
#: cover), basyx (an Asset Administration Shell).
LAZY = ("alembic", "biip", "pyoxigraph", "basyx")

WORKER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from gateway.app import create_app
    from tests.helpers import RECORDS, issue_keys

    home = Path(sys.argv[1])
    app = create_app({"home": home, "database_url": "", "base_url": "https://gw.example"})
    headers = issue_keys(app.extensions["gateway.settings"])
    client = app.test_client()
    record = (RECORDS / "ncm-ev-pack.json").read_bytes()
    verified = []
    for fmt in ("di", "jwt"):
        body = record.replace(b"E740000319", b"E74000031" + (b"7" if fmt == "di" else b"8"))
        issued = client.post(
            f"/passports?format={fmt}",
            data=body,
            headers={**headers["exporter"], "Content-Type": "application/json"},
        )
        assert issued.status_code == 201, issued.get_data(as_text=True)
        for credential in issued.get_json()["credentials"].values():
            if isinstance(credential, str):
                credential = {
                    "@context": "https://www.w3.org/ns/credentials/v2",
                    "id": "data:application/vc+jwt," + credential,
                    "type": "EnvelopedVerifiableCredential",
                }
            answer = client.post("/credentials/verify", json={"verifiableCredential": credential})
            verified.append(answer.get_json()["verified"])
    print(json.dumps({"verified": verified, "loaded": [m for m in LAZY if m in sys.modules]}))
    """
)


def test_shipped_head_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from gateway.store.db import alembic_config

    assert shipped_head() == head_revision()
    # Each migration revises the one numbered before it, so the highest file is the head.
    for script in ScriptDirectory.from_config(alembic_config()).walk_revisions():
        number = int(script.revision)
        assert script.down_revision == (None if number == 1 else f"{number - 1:04d}")


def test_a_worker_issues_and_verifies_without_the_lazy_libraries(tmp_path: Path) -> None:
    home = tmp_path / "instance"
    make_app(home)  # created and migrated, as `gateway init` leaves it
    assert Settings.load({"home": home, "database_url": ""}).has_store
    out = subprocess.run(
        [sys.executable, "-c", f"LAZY = {LAZY!r}\n{WORKER}", str(home)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["verified"] and all(result["verified"])
    assert result["loaded"] == []
