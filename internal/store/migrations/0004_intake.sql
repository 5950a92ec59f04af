-- Intake (随手拍 and every other way a problem comes in): grid cells and
-- their workers, routing switches per category, receipts for citizens,
-- idempotent submissions, the photo derivative queue and the abuse list.

-- Unit grid cells (万米单元网格). The geometry is GeoJSON (WGS-84); the
-- bounding box columns let a map ask for the cells in view. region_id is
-- the deepest region the cell belongs to (normally its community).
CREATE TABLE grid_cells (
    id {{pk}},
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL DEFAULT '',
    community TEXT NOT NULL DEFAULT '',
    street TEXT NOT NULL DEFAULT '',
    district TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    region_id BIGINT REFERENCES regions(id),
    owner_unit_id BIGINT REFERENCES units(id),
    geometry TEXT NOT NULL,
    min_lon DOUBLE PRECISION NOT NULL,
    min_lat DOUBLE PRECISION NOT NULL,
    max_lon DOUBLE PRECISION NOT NULL,
    max_lat DOUBLE PRECISION NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX grid_cells_bbox ON grid_cells(min_lon, max_lon);

CREATE TABLE grid_assignments (
    cell_id BIGINT NOT NULL REFERENCES grid_cells(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (cell_id, user_id)
);
CREATE INDEX grid_assignments_user ON grid_assignments(user_id, cell_id);

-- Routing: how a case was placed and sent, in words the dispatcher reads.
ALTER TABLE cases ADD COLUMN grid_cell_id BIGINT REFERENCES grid_cells(id);
ALTER TABLE cases ADD COLUMN location_flag TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN routing TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN reporter_email TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN reporter_device TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN attributes TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_grid ON cases(grid_cell_id, state, id);
CREATE INDEX cases_updated ON cases(updated_at);
-- Duplicate search: open cases of one category by latitude band.
CREATE INDEX cases_dup ON cases(category_id, lat) WHERE state IN ('reported','accepted','dispatched','in_progress','postponed','verifying');

ALTER TABLE categories ADD COLUMN hint TEXT NOT NULL DEFAULT '';
ALTER TABLE categories ADD COLUMN staff_only BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE categories ADD COLUMN auto_accept BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE categories ADD COLUMN auto_dispatch BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE categories ADD COLUMN dup_radius_m INTEGER NOT NULL DEFAULT 50;

-- Category-specific attributes (Open311 service definitions).
CREATE TABLE category_attributes (
    id {{pk}},
    category_id BIGINT NOT NULL REFERENCES categories(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    datatype TEXT NOT NULL,
    required BOOLEAN NOT NULL DEFAULT FALSE,
    description TEXT NOT NULL DEFAULT '',
    ord INTEGER NOT NULL,
    vals TEXT NOT NULL DEFAULT '',
    UNIQUE (category_id, code)
);

-- Receipts (查询码): a citizen's key to follow a case and rate its result.
-- kind is reporter (filed it) or follower (followed an existing case).
CREATE TABLE receipts (
    code TEXT PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL,
    device_id TEXT NOT NULL DEFAULT '',
    reward_eligible BOOLEAN NOT NULL DEFAULT FALSE,
    rating TEXT NOT NULL DEFAULT '',
    rating_reason TEXT NOT NULL DEFAULT '',
    rated_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX receipts_case ON receipts(case_id);

-- A submission's idempotency key: a retried upload finds the answer of
-- the first attempt instead of making a second case.
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    case_id BIGINT REFERENCES cases(id),
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

-- Photos: the original (path) is private; units and the public see only
-- the derived versions, made by the background worker.
ALTER TABLE photos ADD COLUMN large_path TEXT NOT NULL DEFAULT '';
ALTER TABLE photos ADD COLUMN thumb_path TEXT NOT NULL DEFAULT '';
ALTER TABLE photos ADD COLUMN derived_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE photos ADD COLUMN derive_error TEXT NOT NULL DEFAULT '';

-- The derivative queue. A worker leases a job (lease_until); a crashed
-- worker's lease runs out and another takes the job over.
CREATE TABLE photo_jobs (
    photo_id BIGINT PRIMARY KEY REFERENCES photos(id),
    run_after BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_until BIGINT NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX photo_jobs_due ON photo_jobs(run_after);
-- Photos stored before this migration get their derived versions too.
INSERT INTO photo_jobs (photo_id, run_after) SELECT id, 0 FROM photos;

-- Abuse switch: blocked devices, phone numbers and addresses, stored as
-- keyed hashes so the list itself holds no phone numbers.
CREATE TABLE blocklist (
    kind TEXT NOT NULL,
    value_hash TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (kind, value_hash)
);

-- Public map: open cases by latitude band.
CREATE INDEX cases_open_geo ON cases(lat, lon) WHERE state IN ('reported','accepted','dispatched','in_progress','postponed','verifying');
