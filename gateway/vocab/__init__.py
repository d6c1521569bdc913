"""The EU side's vocabulary: the attribute catalog, the pinned JSON-LD contexts."""
