-- Volunteer service (新时代文明实践志愿服务): the practice network tied to the
-- region tree, volunteer teams, volunteers with their protected identity
-- numbers, activities with sign-up and on-site check-in, the service
-- records whose confirmed minutes are a volunteer's hours, certificates
-- anyone can verify, and the resident population the statistics divide by.

-- A practice network node: centre (district), institute (street) or
-- station (community); one per region.
CREATE TABLE practice_nodes (
    id {{pk}},
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    region_id BIGINT NOT NULL UNIQUE REFERENCES regions(id),
    created_at BIGINT NOT NULL
);

-- A volunteer team (志愿服务队) belongs to a node or to a unit; its
-- coordinator approves volunteers and confirms their hours.
CREATE TABLE volunteer_teams (
    id {{pk}},
    name TEXT NOT NULL UNIQUE,
    node_id BIGINT REFERENCES practice_nodes(id),
    unit_id BIGINT REFERENCES units(id),
    region_id BIGINT NOT NULL REFERENCES regions(id),
    coordinator_id BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX volunteer_teams_coordinator ON volunteer_teams(coordinator_id);

-- A volunteer. The identity number is kept sealed (AES-GCM under the
-- server's data key), masked for display, and as a keyed hash that finds
-- duplicates without opening it. minutes is the sum of confirmed service
-- minutes, kept with each confirmation for the star level.
CREATE TABLE volunteers (
    id {{pk}},
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    id_hash TEXT NOT NULL UNIQUE,
    id_sealed TEXT NOT NULL,
    id_masked TEXT NOT NULL,
    national_no TEXT NOT NULL DEFAULT '',
    skills TEXT NOT NULL DEFAULT '',
    team_id BIGINT NOT NULL REFERENCES volunteer_teams(id),
    region_id BIGINT NOT NULL REFERENCES regions(id),
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    password_hash TEXT NOT NULL DEFAULT '',
    consent_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    decided_at BIGINT NOT NULL DEFAULT 0,
    decided_by BIGINT REFERENCES users(id),
    minutes BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX volunteers_phone ON volunteers(phone) WHERE phone <> '';
CREATE INDEX volunteers_team ON volunteers(team_id, status);
-- the statistics count approved volunteers by home region from this
-- index alone, already in region order
CREATE INDEX volunteers_region ON volunteers(status, region_id, decided_at);

CREATE TABLE volunteer_sessions (
    id TEXT PRIMARY KEY,
    volunteer_id BIGINT NOT NULL REFERENCES volunteers(id),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX volunteer_sessions_volunteer ON volunteer_sessions(volunteer_id);

-- An activity a team organises. Check-in is by the activity's QR code
-- (checkin_token), within its time window and radius_m of its place.
CREATE TABLE activities (
    id {{pk}},
    team_id BIGINT NOT NULL REFERENCES volunteer_teams(id),
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    region_id BIGINT NOT NULL REFERENCES regions(id),
    site_id BIGINT REFERENCES assess_sites(id),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    capacity INTEGER NOT NULL,
    radius_m INTEGER NOT NULL,
    checkin_token TEXT NOT NULL UNIQUE,
    cancelled_at BIGINT NOT NULL DEFAULT 0,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX activities_team ON activities(team_id, starts_at);
-- the statistics count a period's activities by region from this index
-- alone, already in region order
CREATE INDEX activities_region ON activities(cancelled_at, region_id, starts_at);
-- the volunteers' list of activities still to come
CREATE INDEX activities_end ON activities(ends_at);
-- the office's list, latest first
CREATE INDEX activities_start ON activities(starts_at);

CREATE TABLE activity_signups (
    activity_id BIGINT NOT NULL REFERENCES activities(id),
    volunteer_id BIGINT NOT NULL REFERENCES volunteers(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (activity_id, volunteer_id)
);
CREATE INDEX activity_signups_volunteer ON activity_signups(volunteer_id);

-- A volunteer's service at an activity: check-in and check-out as
-- recorded on site, the minutes they span, and the minutes the organiser
-- confirmed (谁组织谁记录). Only confirmed minutes count as hours.
CREATE TABLE service_records (
    id {{pk}},
    activity_id BIGINT NOT NULL REFERENCES activities(id),
    volunteer_id BIGINT NOT NULL REFERENCES volunteers(id),
    region_id BIGINT NOT NULL REFERENCES regions(id),
    checkin_at BIGINT NOT NULL,
    checkin_m INTEGER NOT NULL,
    checkout_at BIGINT NOT NULL DEFAULT 0,
    checkout_m INTEGER NOT NULL DEFAULT 0,
    minutes INTEGER NOT NULL DEFAULT 0,
    confirmed_minutes INTEGER NOT NULL DEFAULT 0,
    confirmed_at BIGINT NOT NULL DEFAULT 0,
    confirmed_by BIGINT REFERENCES users(id),
    UNIQUE (activity_id, volunteer_id)
);
CREATE INDEX service_records_volunteer ON service_records(volunteer_id, checkin_at);
-- the statistics read a period's records from this index alone
CREATE INDEX service_records_time ON service_records(checkin_at, region_id, volunteer_id, confirmed_minutes);

-- Each volunteer's confirmed minutes per quarter (in the city's zone, by
-- the records' check-in), kept with every confirmation in the same
-- transaction: a quarter's statistics read one row a volunteer instead
-- of every service record.
CREATE TABLE volunteer_quarters (
    quarter TEXT NOT NULL,
    volunteer_id BIGINT NOT NULL REFERENCES volunteers(id),
    region_id BIGINT NOT NULL REFERENCES regions(id),
    minutes BIGINT NOT NULL,
    PRIMARY KEY (quarter, volunteer_id)
);
CREATE INDEX volunteer_quarters_region ON volunteer_quarters(quarter, region_id, minutes);

-- A service record certificate (志愿服务记录证明), issued by the
-- organising team; anyone can verify its code.
CREATE TABLE volunteer_certificates (
    id {{pk}},
    code TEXT NOT NULL UNIQUE,
    volunteer_id BIGINT NOT NULL REFERENCES volunteers(id),
    team_id BIGINT NOT NULL REFERENCES volunteer_teams(id),
    from_at BIGINT NOT NULL,
    to_at BIGINT NOT NULL,
    minutes BIGINT NOT NULL,
    activities INTEGER NOT NULL,
    issued_at BIGINT NOT NULL,
    issued_by BIGINT REFERENCES users(id),
    revoked_at BIGINT NOT NULL DEFAULT 0,
    revoked_by BIGINT REFERENCES users(id),
    revoke_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX volunteer_certificates_volunteer ON volunteer_certificates(volunteer_id);

-- Resident population per region (configuration), for the share of
-- residents who volunteer.
CREATE TABLE region_population (
    region_id BIGINT PRIMARY KEY REFERENCES regions(id),
    population BIGINT NOT NULL
);
