"""Each probe kind cleans its own options (DESIGN.md §6): what it reads from a form, what it shows back, and
the field errors it raises — which partnermon's probe settings pass on unchanged."""

from __future__ import annotations

from typing import Any

import pytest

import probes
from partnermon.errors import ValidationError
from partnermon.partners import probe_settings
from probes.settings import SettingsError

STORED: dict[str, dict[str, Any]] = {
    "http": {},
    "json": {},
    "content": {"expect_text": ["Lodge a claim", "Call us"], "reject_text": ["Unavailable"], "human_contact": "hard"},
    "tls": {"min_days": 30},
    "dns": {"record_types": ["A", "MX"]},
    "journey": {"steps": [{"name": "Home"}, {"name": "Claims", "url": "/claims", "checks": ["[STATUS] == 200"]}]},
}


def test_every_kind_in_the_table_is_covered_here() -> None:
    assert set(STORED) == set(probes.KINDS)


@pytest.mark.parametrize("name", list(STORED))
def test_what_the_form_shows_reads_back_as_the_stored_options(name: str) -> None:
    kind = probes.KINDS[name]
    shown = kind.form_values(STORED[name])
    assert tuple(shown) == kind.option_fields
    assert kind.clean_options(shown) == STORED[name]


@pytest.mark.parametrize("name", list(STORED))
def test_a_new_probes_form_reads_as_the_kinds_defaults(name: str) -> None:
    kind = probes.KINDS[name]
    options = kind.clean_options(kind.form_values({}))
    assert kind.check(probes.ProbeSpec(kind=name, url="https://partner.test/", options=options)) == (
        {"steps": "A journey needs at least one step."} if name == "journey" else {})


@pytest.mark.parametrize(("name", "typed", "field", "words"), [
    ("content", {"human_contact": "loud"}, "human_contact", "Human contact check must be one of: soft, hard, off."),
    ("tls", {"min_days": "٣"}, "min_days",
     "Warn days before expiry must be a whole number written with the digits 0–9."),
    ("tls", {"min_days": "400"}, "min_days", "Warn days before expiry must be between 0 and 365."),
    ("journey", {"steps": "[{nope"}, "steps",
     "Steps must be JSON: Expecting property name enclosed in double quotes: line 1 column 3 (char 2)."),
])
def test_a_kind_names_the_field_it_cannot_read(name: str, typed: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(SettingsError) as raised:
        probes.KINDS[name].clean_options(typed)
    assert raised.value.errors == {field: words}


def test_dns_reads_record_types_ticked_or_typed() -> None:
    dns = probes.KINDS["dns"]
    assert dns.clean_options({"record_types": ["a", " mx "]}) == {"record_types": ["A", "MX"]}
    assert dns.clean_options({"record_types": "a, mx txt"}) == {"record_types": ["A", "MX", "TXT"]}
    assert dns.clean_options({"record_types": []}) == {"record_types": ["A"]}


def test_probe_settings_put_a_kinds_errors_on_its_fields_beside_the_others(cast: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        probe_settings.clean(cast.acme_claims, {"kind": "tls", "min_days": "lots", "interval_seconds": "5"})
    assert raised.value.errors == {
        "interval_seconds": "Interval (seconds) must be between 30 and 86,400.",
        "min_days": "Warn days before expiry must be a whole number written with the digits 0–9.",
    }


def test_no_two_kinds_share_an_option_name() -> None:
    """The touchpoint form keeps every kind's fields in one set of form values: two kinds with an option of the
    same name would fill each other's field."""
    names = [name for kind in probes.KINDS.values() for name in kind.option_fields]
    assert len(names) == len(set(names)), sorted(names)
