-- Assessment (测评体系, 点位, 模拟测评): editions of the indicator tree, the
-- site registry, rounds with their sample, observations and the values of
-- survey and document standards (internal/assess, docs/assessment.md).
--
-- Points and values are exact decimals stored as TEXT, written as the
-- file wrote them ('4', '0.5', '2.125'): never a float, and read back with
-- assess.ParseDecimal into exact rationals.

-- An edition is one version of a tree. Importing a code that exists adds
-- a version (a draft); a published version never changes.
CREATE TABLE assess_editions (
    id {{pk}},
    code TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft',
    created_at BIGINT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    published_at BIGINT NOT NULL DEFAULT 0,
    UNIQUE (code, version)
);

-- Site types (点位类型), shared by every edition and site; an edition's
-- import adds the names it lists that are new.
CREATE TABLE assess_site_types (
    id {{pk}},
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE assess_edition_site_types (
    edition_id BIGINT NOT NULL REFERENCES assess_editions(id),
    site_type_id BIGINT NOT NULL REFERENCES assess_site_types(id),
    ord INTEGER NOT NULL,
    PRIMARY KEY (edition_id, site_type_id)
);

-- The tree: projects (测评项目) → contents (测评内容) → standards (测评标准),
-- each level in file order (ord). points is NULL on a project or content
-- whose file gave none.
CREATE TABLE assess_projects (
    id {{pk}},
    edition_id BIGINT NOT NULL REFERENCES assess_editions(id),
    ord INTEGER NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    points TEXT,
    UNIQUE (edition_id, code)
);

CREATE TABLE assess_contents (
    id {{pk}},
    edition_id BIGINT NOT NULL REFERENCES assess_editions(id),
    project_id BIGINT NOT NULL REFERENCES assess_projects(id),
    ord INTEGER NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    points TEXT,
    UNIQUE (edition_id, code)
);

CREATE TABLE assess_standards (
    id {{pk}},
    edition_id BIGINT NOT NULL REFERENCES assess_editions(id),
    content_id BIGINT NOT NULL REFERENCES assess_contents(id),
    ord INTEGER NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    points TEXT NOT NULL,
    method TEXT NOT NULL,
    rule TEXT NOT NULL,
    per_problem TEXT,
    lead_unit_id BIGINT REFERENCES units(id),
    UNIQUE (edition_id, code)
);

CREATE TABLE assess_standard_site_types (
    standard_id BIGINT NOT NULL REFERENCES assess_standards(id),
    site_type_id BIGINT NOT NULL REFERENCES assess_site_types(id),
    ord INTEGER NOT NULL,
    PRIMARY KEY (standard_id, site_type_id)
);

CREATE TABLE assess_standard_coops (
    standard_id BIGINT NOT NULL REFERENCES assess_standards(id),
    unit_id BIGINT NOT NULL REFERENCES units(id),
    ord INTEGER NOT NULL,
    PRIMARY KEY (standard_id, unit_id)
);

-- The negative list (负面清单): no points; a failure vetoes the scope.
CREATE TABLE assess_negative_items (
    id {{pk}},
    edition_id BIGINT NOT NULL REFERENCES assess_editions(id),
    ord INTEGER NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (edition_id, code)
);

CREATE TABLE assess_negative_site_types (
    item_id BIGINT NOT NULL REFERENCES assess_negative_items(id),
    site_type_id BIGINT NOT NULL REFERENCES assess_site_types(id),
    ord INTEGER NOT NULL,
    PRIMARY KEY (item_id, site_type_id)
);

-- Sites (点位). region_id is the deepest region known (given by code, or
-- the grid cell's region when only a point was given); lat/lon are WGS-84,
-- NULL when not given. unit_id is the responsible unit (包保单位), chief
-- the site chief (点位长).
CREATE TABLE assess_sites (
    id {{pk}},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    site_type_id BIGINT NOT NULL REFERENCES assess_site_types(id),
    region_id BIGINT NOT NULL REFERENCES regions(id),
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    address TEXT NOT NULL DEFAULT '',
    unit_id BIGINT REFERENCES units(id),
    chief TEXT NOT NULL DEFAULT '',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX assess_sites_region ON assess_sites(region_id);

-- A round binds one edition version. inspection_date is the day in the
-- city's zone (YYYY-MM-DD); plan is "all" or "TYPE:N,..."; seed is the
-- draw's unsigned 64-bit seed in decimal (BIGINT is signed).
CREATE TABLE assess_rounds (
    id {{pk}},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    edition_id BIGINT NOT NULL REFERENCES assess_editions(id),
    inspection_date TEXT NOT NULL,
    plan TEXT NOT NULL,
    seed TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'draft',
    created_at BIGINT NOT NULL,
    created_by BIGINT REFERENCES users(id)
);
CREATE INDEX assess_rounds_edition ON assess_rounds(edition_id, inspection_date);

-- The sample: each drawn site with its type, region and unit as they were
-- when it was drawn, so that moving a site or changing its unit later
-- does not change a round's scores or ledger.
CREATE TABLE assess_round_sites (
    round_id BIGINT NOT NULL REFERENCES assess_rounds(id),
    site_id BIGINT NOT NULL REFERENCES assess_sites(id),
    site_type_id BIGINT NOT NULL REFERENCES assess_site_types(id),
    region_id BIGINT NOT NULL REFERENCES regions(id),
    unit_id BIGINT REFERENCES units(id),
    PRIMARY KEY (round_id, site_id)
);

-- Observations: one standard (or negative-list item), named by its code
-- in the round's edition version, checked at one sampled site.
CREATE TABLE assess_observations (
    id {{pk}},
    round_id BIGINT NOT NULL,
    site_id BIGINT NOT NULL,
    standard TEXT NOT NULL,
    result TEXT NOT NULL,
    problems INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    FOREIGN KEY (round_id, site_id) REFERENCES assess_round_sites(round_id, site_id),
    UNIQUE (round_id, site_id, standard)
);

-- Values of survey and document (graded) standards: per district, or for
-- the whole city (region_id NULL). value is an exact decimal.
CREATE TABLE assess_results (
    id {{pk}},
    round_id BIGINT NOT NULL REFERENCES assess_rounds(id),
    region_id BIGINT REFERENCES regions(id),
    standard TEXT NOT NULL,
    value TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX assess_results_key ON assess_results(round_id, COALESCE(region_id, 0), standard);
