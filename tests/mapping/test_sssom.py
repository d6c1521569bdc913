"""The shipped table is valid SSSOM, and our reader and writer agree with each other."""

import warnings
from dataclasses import replace

import pytest

from gateway.errors import MappingInvalid
from gateway.mapping.loader import SUFFIX, available, load
from gateway.mapping.sssom import read_sssom, write_sssom
from gateway.paths import MAPPINGS_DIR

SHIPPED = "cn-trace-to-eu-passport@1.0.0"
SHIPPED_FILE = MAPPINGS_DIR / "cn-trace-to-eu-passport" / f"1.0.0{SUFFIX}"


def test_shipped_versions_are_listed():
    assert SHIPPED in available()


def test_write_then_read_gives_the_same_table():
    table = read_sssom(SHIPPED_FILE.read_text(encoding="utf-8"))
    again = read_sssom(write_sssom(table))
    assert again.rows == table.rows
    assert again.content_hash == table.content_hash


def test_the_shipped_file_is_what_the_writer_writes():
    text = SHIPPED_FILE.read_text(encoding="utf-8")
    assert write_sssom(read_sssom(text)) == text


def test_hash_ignores_metadata_but_not_rows():
    table = load(SHIPPED)
    assert replace(table, metadata={}).content_hash == table.content_hash
    changed = replace(table, rows=(replace(table.rows[0], comment="changed"),) + table.rows[1:])
    assert changed.content_hash != table.content_hash


def test_the_sssom_package_reads_the_core_of_the_file():
    sssom_parsers = pytest.importorskip("sssom.parsers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        msdf = sssom_parsers.parse_sssom_table(str(SHIPPED_FILE))
    table = load(SHIPPED)
    theirs = set(zip(msdf.df.subject_id, msdf.df.predicate_id, msdf.df.object_id, strict=True))
    ours = {(r.subject_id, r.predicate_id, r.object_id) for r in table.rows}
    assert theirs == ours
    assert msdf.metadata["mapping_set_id"].endswith("/cn-trace-to-eu-passport/1.0.0")


def test_unreadable_rows_are_all_reported_with_their_numbers():
    text = SHIPPED_FILE.read_text(encoding="utf-8").splitlines()
    header_at = next(i for i, line in enumerate(text) if line.startswith("subject_id"))
    bad = list(text)
    bad[header_at + 2] = bad[header_at + 2].rsplit("\t", 1)[0] + "\t{not json"
    bad[header_at + 5] = bad[header_at + 5].rsplit("\t", 1)[0] + "\t[1, 2]"
    with pytest.raises(MappingInvalid) as caught:
        read_sssom("\n".join(bad))
    rows = [(e["row"], e["column"]) for e in caught.value.extensions["errors"]]
    assert rows == [(2, "transform_params"), (5, "transform_params")]


def test_an_undeclared_extension_column_is_refused():
    text = SHIPPED_FILE.read_text(encoding="utf-8")
    text = text.replace("#- slot_name: transform_params\n", "#- slot_name: other\n")
    with pytest.raises(MappingInvalid) as caught:
        read_sssom(text)
    assert caught.value.extensions["errors"][0]["column"] == "transform_params"
