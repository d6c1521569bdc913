"""Where the data folders of the project live.

The gateway runs from its repository (``pip install -e .``), so the published data
(``vocab/``, ``mappings/``, ``openapi.yaml``) is read from the checkout beside the package.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VOCAB_DIR = ROOT / "vocab"
CONTEXTS_DIR = VOCAB_DIR / "contexts"
MAPPINGS_DIR = ROOT / "mappings"
FIXTURES_DIR = ROOT / "fixtures"
OPENAPI_PATH = ROOT / "openapi.yaml"
