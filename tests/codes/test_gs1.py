"""GTIN check digits and GS1 Digital Link paths, against GS1's published examples."""

from __future__ import annotations

import pytest

from gateway.codes import gs1

# GTINs GS1 publishes in its own documents (GS1 General Specifications, the Digital Link
# standard): prefix 950 (GS1 Global Office) and 0614141 (GS1 US examples).
VALID = ("09506000134352", "9506000134352", "00614141123452", "614141123452", "95012346")


def _check_digit(payload: str) -> int:
    """GS1 General Specifications §7.9.1, written out: weights 3 and 1 from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(payload)))
    return (10 - total % 10) % 10


@pytest.mark.parametrize("gtin", VALID)
def test_published_gtins_pass_and_read_as_14_digits(gtin: str) -> None:
    assert gs1.gtin14(gtin) == gtin.zfill(14)
    assert int(gtin[-1]) == _check_digit(gtin[:-1])


@pytest.mark.parametrize("gtin", VALID)
def test_every_wrong_check_digit_is_refused(gtin: str) -> None:
    for digit in "0123456789":
        if digit != gtin[-1]:
            with pytest.raises(ValueError, match="check digit"):
                gs1.gtin14(gtin[:-1] + digit)


@pytest.mark.parametrize(
    "value", ["", "abc", "0950600013435", "095060001343521", "0950600013435x", "٠٩٥٠٦٠٠٠١٣٤٣٥٢"]
)
def test_what_is_not_a_gtin(value: str) -> None:
    with pytest.raises(ValueError):
        gs1.gtin14(value)


def test_a_digital_link_is_the_gtin_14_and_the_serial() -> None:
    link = gs1.digital_link("9506000134352", "BA10000001F3F0000123")
    assert link == gs1.DigitalLink("09506000134352", "BA10000001F3F0000123")
    assert link.path == "/01/09506000134352/21/BA10000001F3F0000123"
    assert (
        link.uri("id.example.cn")
        == "https://id.example.cn/01/09506000134352/21/BA10000001F3F0000123"
    )


def test_a_serial_is_percent_encoded_in_the_path_and_read_back() -> None:
    link = gs1.digital_link("09506000134352", "AB/12%")
    assert link.path == "/01/09506000134352/21/AB%2F12%25"
    assert gs1.parse_path(link.path) == link


def test_paths_parse_in_their_canonical_form() -> None:
    # GS1 Digital Link URI Syntax: a shorter GTIN is padded to 14 digits; query ignored.
    read = gs1.parse_path("/01/9506000134352/21/ABC123?linkType=gs1:pip")
    assert read == gs1.DigitalLink("09506000134352", "ABC123")


@pytest.mark.parametrize(
    "path",
    [
        "/01/09506000134353/21/ABC",  # check digit
        "/01/09506000134352",  # no serial
        "/01/09506000134352/10/LOT1",  # a batch, not a serial
        "/01/09506000134352/21/ABC/10/LOT1",  # more than a battery's two element strings
        "/00/095060001343520001",  # an SSCC
        "/01/09506000134352/21/" + "X" * 21,  # serial too long
        "/01/" + "9" * 400,
    ],
)
def test_paths_that_are_not_a_batterys_link(path: str) -> None:
    with pytest.raises(ValueError):
        gs1.parse_path(path)


@pytest.mark.parametrize("serial", ["", "X" * 21, "A B", "é"])
def test_serials_outside_character_set_82_or_20_characters(serial: str) -> None:
    with pytest.raises(ValueError):
        gs1.check_serial(serial)


@pytest.mark.parametrize(
    ("gtin", "serial"),
    [("09506000134352", "BA10000001F3F0000123"), ("95012346", "AB/12%"), ("614141123452", "x")],
)
def test_the_path_is_what_biips_own_builder_writes(gtin: str, serial: str) -> None:
    from biip.gs1_digital_link_uris import GS1DigitalLinkURI
    from biip.gs1_element_strings import GS1ElementString, GS1ElementStrings

    strings = GS1ElementStrings(
        [GS1ElementString.parse(f"01{gtin.zfill(14)}"), GS1ElementString.parse(f"21{serial}")]
    )
    built = GS1DigitalLinkURI.from_element_strings(strings).as_uri(domain="id.example.cn")
    assert gs1.digital_link(gtin, serial).uri("id.example.cn") == built
