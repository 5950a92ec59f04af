-- The base layer a city without a tile service draws under its grid:
-- roads (with names), water and parks, as GeoJSON geometries (WGS-84)
-- with their bounding boxes. The demo city has a fictional one.
CREATE TABLE basemap_features (
    id {{pk}},
    kind TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    geometry TEXT NOT NULL,
    min_lon DOUBLE PRECISION NOT NULL,
    min_lat DOUBLE PRECISION NOT NULL,
    max_lon DOUBLE PRECISION NOT NULL,
    max_lat DOUBLE PRECISION NOT NULL
);
