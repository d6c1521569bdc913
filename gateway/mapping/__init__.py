"""Mapping tables from the national record model to the EU passport attributes.

Tables are SSSOM TSV files (``mappings/<set>/<version>.sssom.tsv``) with declared
extension columns for what SSSOM lacks: the transform that turns a national value into
an EU value, and its parameters.
"""
