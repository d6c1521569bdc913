"""Cross-border data policy: what of a national record may leave China."""
