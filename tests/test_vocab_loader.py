import pytest

from gateway.errors import ContextError
from gateway.vocab.loader import CREDENTIALS_V2, document_loader, pinned_contexts


def test_v2_context_is_pinned():
    assert "@context" in pinned_contexts()[CREDENTIALS_V2]


def test_unknown_context_is_refused():
    load = document_loader()
    with pytest.raises(ContextError, match="not pinned"):
        load("https://example.org/evil-context", {})
