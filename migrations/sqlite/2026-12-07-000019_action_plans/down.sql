DROP TABLE action_plan_visits;
DROP TABLE action_plan_actions;
DROP TABLE action_plans;
ALTER TABLE organization_settings DROP COLUMN action_plans;
