-- The campaign's task list (工作任务分解): the year's plan decomposed into
-- tasks, each with the indicator leaves it serves, a lead unit and
-- cooperating units, and milestones with due dates and deliverables.
-- Units report progress per milestone with attachments; the office
-- accepts a report (the milestone is done) or returns it.
CREATE TABLE plan_tasks (
    id {{pk}},
    year INTEGER NOT NULL,
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    lead_unit_id BIGINT NOT NULL REFERENCES units(id),
    created_at BIGINT NOT NULL,
    UNIQUE (year, code)
);
CREATE INDEX plan_tasks_lead ON plan_tasks(lead_unit_id, year);

-- The indicator leaves (测评标准 codes) a task serves.
CREATE TABLE plan_task_leaves (
    task_id BIGINT NOT NULL REFERENCES plan_tasks(id),
    standard TEXT NOT NULL,
    PRIMARY KEY (task_id, standard)
);
CREATE INDEX plan_task_leaves_standard ON plan_task_leaves(standard, task_id);

CREATE TABLE plan_task_coops (
    task_id BIGINT NOT NULL REFERENCES plan_tasks(id),
    unit_id BIGINT NOT NULL REFERENCES units(id),
    PRIMARY KEY (task_id, unit_id)
);
CREATE INDEX plan_task_coops_unit ON plan_task_coops(unit_id, task_id);

-- A milestone (节点): due at the end of its day in the city's zone.
-- accepted_at is set when the office accepts a report on it.
CREATE TABLE plan_milestones (
    id {{pk}},
    task_id BIGINT NOT NULL REFERENCES plan_tasks(id),
    ord INTEGER NOT NULL,
    title TEXT NOT NULL,
    due TEXT NOT NULL,
    deliverable TEXT NOT NULL DEFAULT '',
    accepted_at BIGINT NOT NULL DEFAULT 0,
    UNIQUE (task_id, ord)
);
CREATE INDEX plan_milestones_due ON plan_milestones(accepted_at, due);

-- A unit's progress report on a milestone. decision: pending, accepted,
-- returned.
CREATE TABLE plan_reports (
    id {{pk}},
    milestone_id BIGINT NOT NULL REFERENCES plan_milestones(id),
    unit_id BIGINT REFERENCES units(id),
    body TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    decision TEXT NOT NULL DEFAULT 'pending',
    decided_by BIGINT REFERENCES users(id),
    decided_at BIGINT NOT NULL DEFAULT 0,
    decision_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX plan_reports_milestone ON plan_reports(milestone_id, id);
CREATE INDEX plan_reports_pending ON plan_reports(decision, id);

CREATE TABLE plan_report_files (
    id {{pk}},
    report_id BIGINT NOT NULL REFERENCES plan_reports(id),
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    mime TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE INDEX plan_report_files_report ON plan_report_files(report_id);
