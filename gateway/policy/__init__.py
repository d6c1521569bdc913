"""Cross-border data policy: what of a national record may leave China.

``table`` (the versioned classification of record paths and how a record passes through
it, with a tenant's tightening), ``categories`` (the kinds of BMS health data an export
approval covers), ``approvals`` (what an approval says and when it is in force),
``aggregates`` (what leaves from an ``aggregate_only`` path).
"""
