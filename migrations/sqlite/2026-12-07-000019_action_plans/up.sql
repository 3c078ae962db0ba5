-- Action plans: how a store gets out of the zero mile (see `improvement::plan`).
-- `action_plans` on an organization opens them automatically (off until an admin turns it on).
ALTER TABLE organization_settings ADD COLUMN action_plans BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE action_plans (
    org_id TEXT NOT NULL,
    id TEXT NOT NULL,
    location_id TEXT NOT NULL,
    cause TEXT NOT NULL CHECK (cause IN ('zero_mile', 'critical_failure', 'manual')),
    status TEXT NOT NULL CHECK (status IN ('open', 'planned', 'done', 'verified', 'reopened')),
    summary TEXT NOT NULL,
    causes TEXT,
    opened_by TEXT,
    opened_at TIMESTAMP NOT NULL,
    planned_at TIMESTAMP,
    done_at TIMESTAMP,
    verified_at TIMESTAMP,
    review_note TEXT,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id)
);
-- One plan per location and cause is open (not verified) at a time: the database holds it.
CREATE UNIQUE INDEX action_plans_one_open_idx ON action_plans (org_id, location_id, cause)
    WHERE status <> 'verified';
CREATE INDEX action_plans_location_idx ON action_plans (org_id, location_id, id);
CREATE INDEX action_plans_status_idx ON action_plans (org_id, status, id);

-- Its actions, numbered from 1 in the order written; replaced whole when it is planned.
CREATE TABLE action_plan_actions (
    org_id TEXT NOT NULL,
    plan_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    description TEXT NOT NULL,
    owner TEXT NOT NULL,
    due_on TEXT NOT NULL,
    done_at TIMESTAMP,
    done_note TEXT,
    -- `action_plan.overdue` was recorded for it (once per action).
    overdue_recorded BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (org_id, plan_id, number)
);
CREATE INDEX action_plan_actions_due_idx ON action_plan_actions (due_on)
    WHERE done_at IS NULL AND NOT overdue_recorded;

-- The visits that opened a plan or were added to it by a later trigger.
CREATE TABLE action_plan_visits (
    org_id TEXT NOT NULL,
    plan_id TEXT NOT NULL,
    report_id TEXT NOT NULL,
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, plan_id, report_id)
);
