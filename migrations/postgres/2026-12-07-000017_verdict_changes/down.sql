DROP TABLE verdict_changes;
