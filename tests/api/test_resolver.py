"""The resolver: GS1 Digital Link and IEC 61406 paths answer for the same passport by
content negotiation, the link set (RFC 9264) lists only what the caller may read, and
every answer carries the links in a ``Link`` header (RFC 8288)."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import RECORDS, assert_problem

LFP = "Z9ZPBS2ESS2801F5A0000088"
DIGITAL_LINK = f"/01/09506000134352/21/{LFP[4:]}"
ID_LINK = f"/id/{LFP}"
PASSPORT = f"https://gw.example/passports/{LFP}"
LINKSET = "application/linkset+json"
CREDENTIAL = "https://www.w3.org/2018/credentials#verifiableCredential"


@pytest.fixture
def issued(api, keys) -> dict:
    assert (
        api.put(
            "/identifier-scheme",
            json={"scheme": "gs1-digital-link", "domain": "id.mindong.cn"},
            headers=keys["exporter"],
        ).status_code
        == 200
    )
    created = api.post(
        "/passports",
        data=(RECORDS / "lfp-storage-pack.json").read_bytes(),
        content_type="application/json",
        headers=keys["exporter"],
    )
    assert created.status_code == 201
    return created.get_json()


def _links(header: str) -> list[tuple[str, str]]:
    """``(target, rel)`` of each link of a ``Link`` header."""
    return re.findall(r'<([^>]+)>; rel="([^"]+)"', header)


def test_both_links_answer_with_the_same_passport_by_content_negotiation(api, issued):
    for path in (DIGITAL_LINK, ID_LINK, "/01/9506000134352/21/" + LFP[4:]):
        ld = api.get(path, headers={"Accept": "application/ld+json"})
        assert ld.status_code == 200 and ld.mimetype == "application/ld+json"
        assert ld.get_json()["id"] == PASSPORT
        page = api.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert page.status_code == 200 and page.mimetype == "text/html"
        assert LFP in page.get_data(as_text=True)
        aas = api.get(path, headers={"Accept": "application/aas+json"})
        assert aas.mimetype == "application/aas+json"
        shell = aas.get_json()["assetAdministrationShells"][0]
        assert shell["assetInformation"]["globalAssetId"] == "https://id.mindong.cn" + DIGITAL_LINK
        linkset = api.get(path, headers={"Accept": LINKSET})
        assert linkset.mimetype == LINKSET
        for answer in (ld, page, aas, linkset):
            links = _links(answer.headers["Link"])
            assert (PASSPORT, "dpp") in links
            assert ("https://id.mindong.cn" + DIGITAL_LINK, "cite-as") in links
            assert (f"https://gw.example/passports/{LFP}/linkset", "linkset") in links
            assert "Accept" in answer.headers["Vary"]
        assert "Accept-Language" in page.headers["Vary"]


def test_the_linkset_follows_rfc_9264_and_names_the_dpp(api, issued):
    body = api.get(DIGITAL_LINK, headers={"Accept": LINKSET}).get_json()
    [context] = body["linkset"]
    assert context["anchor"] == "https://id.mindong.cn" + DIGITAL_LINK
    # RFC 9264 §4.2: every other member is a relation type whose value is an array of
    # target objects, each with an href.
    for relation, targets in context.items():
        if relation != "anchor":
            assert isinstance(targets, list) and all("href" in t for t in targets), relation
    assert {t["type"] for t in context["dpp"]} >= {
        "text/html",
        "application/ld+json",
        "application/aas+json",
    }
    assert context["describedby"][0]["href"] == f"{PASSPORT}/metadata"
    assert context["https://gs1.org/voc/defaultLink"][0]["href"] == PASSPORT


def test_an_anonymous_linkset_lists_only_the_public_credential(api, keys, issued):
    def credentials(headers):
        body = api.get(DIGITAL_LINK, headers={"Accept": LINKSET, **headers}).get_json()
        return [t["href"].rsplit("/", 1)[1] for t in body["linkset"][0][CREDENTIAL]]

    assert credentials({}) == ["annex-xiii-1"]
    assert credentials(keys["beta"]) == ["annex-xiii-1"]  # another tenant's exporter
    assert credentials(keys["exporter"]) == list(issued["credentials"])
    assert credentials(keys["authority"]) == ["annex-xiii-1", "annex-xiii-2", "annex-xiii-3"]


def test_each_linked_credential_is_served_to_whoever_may_read_it(api, keys, issued):
    public = api.get(f"/passports/{LFP}/credentials/annex-xiii-1")
    assert public.status_code == 200 and public.mimetype == "application/vc"
    assert json.loads(public.data) == issued["credentials"]["annex-xiii-1"]
    assert_problem(api.get(f"/passports/{LFP}/credentials/annex-xiii-2"), 404)
    assert_problem(api.get(f"/passports/{LFP}/credentials/annex-xiii-4", headers=keys["beta"]), 404)
    own = api.get(f"/passports/{LFP}/credentials/annex-xiii-4", headers=keys["exporter"])
    assert own.status_code == 200
    assert_problem(api.get(f"/passports/{LFP}/credentials/annex-xiii-9"), 404)
    assert_problem(api.get(f"/passports/{LFP}/credentials/%00"), 404)


@pytest.mark.parametrize(
    ("link_type", "target"),
    [
        ("describedby", f"{PASSPORT}/metadata"),
        ("gs1:pip", PASSPORT),
        ("https://gs1.org/voc/defaultLink", PASSPORT),
    ],
)
def test_a_link_type_redirects_to_its_target(api, issued, link_type, target):
    response = api.get(f"{DIGITAL_LINK}?linkType={link_type}")
    assert response.status_code == 307 and response.headers["Location"] == target
    assert (PASSPORT, "dpp") in _links(response.headers["Link"])


def test_link_types_for_the_whole_set_the_dpp_and_unknown_ones(api, issued):
    for value in ("linkset", "all"):
        assert api.get(f"{DIGITAL_LINK}?linkType={value}").mimetype == LINKSET
    for value in ("dpp", "gs1:certificationInfo"):
        answer = api.get(f"{DIGITAL_LINK}?linkType={value}")
        assert answer.status_code == 200 and answer.mimetype == "application/ld+json"


def test_the_passports_own_answers_carry_the_linkset_link(api, issued):
    for accept in ("application/ld+json", "text/html", "application/aas+json"):
        response = api.get(f"/passports/{LFP}", headers={"Accept": accept})
        assert (f"/passports/{LFP}/linkset", "linkset") in _links(response.headers["Link"])
    own = api.get(f"/passports/{LFP}/linkset")
    assert own.mimetype == LINKSET
    assert json.loads(own.data)["linkset"][0]["anchor"] == "https://id.mindong.cn" + DIGITAL_LINK


@pytest.mark.parametrize(
    ("path", "status", "pointer"),
    [
        ("/01/09506000134353/21/ABC", 422, "gtin"),
        ("/01/0950600013435/21/ABC", 422, "gtin"),
        ("/01/" + "9" * 5000 + "/21/ABC", 422, "gtin"),
        ("/01/09506000134352/21/" + "X" * 5000, 422, "serial"),
        ("/01/09506000134352/21/A%20B", 422, "serial"),
        ("/01/09506000134352/21/NOSUCHSERIAL", 404, None),
        ("/id/Z9ZPBS2ESS2801F5A0000099", 404, None),
        ("/id/not-a-code", 422, "code"),
        ("/id/" + "Z" * 5000, 422, "code"),
        ("/id/%00", 422, "code"),
        (f"{DIGITAL_LINK}?linkType=" + "x" * 101, 422, "linkType"),
        (f"{DIGITAL_LINK}?linkType=%00", 422, "linkType"),
        (f"/passports/{LFP}9/linkset", 404, None),
    ],
)
def test_hostile_and_unknown_identifiers_are_4xx_problems(api, issued, path, status, pointer):
    problem = assert_problem(api.get(path, headers={"Accept": "application/json"}), status)
    if pointer is not None:
        assert problem["pointer"] == pointer
    assert "9" * 100 not in json.dumps(problem) and "X" * 100 not in json.dumps(problem)


def test_a_bad_api_key_is_refused_even_where_none_is_needed(api, issued):
    bad = {"Authorization": "Bearer nope"}
    assert_problem(api.get(DIGITAL_LINK, headers=bad), 401)
    assert_problem(api.get(f"/passports/{LFP}/linkset", headers=bad), 401)
    assert_problem(api.get(f"/passports/{LFP}/credentials/annex-xiii-1", headers=bad), 401)


def test_an_unknown_battery_scanned_in_a_browser_is_a_page(api) -> None:
    """A QR code for a battery this gateway holds no passport of: a browser gets the
    site's error page, an API client the problem."""
    path = "/id/Z9ZPEN8K52S96AE740000999"
    browser = api.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 404
    assert browser.mimetype == "text/html"
    assert "no passport for battery code" in browser.get_data(as_text=True)
    assert_problem(api.get(path, headers={"Accept": "application/json"}), 404, "not-found")
