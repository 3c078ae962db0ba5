DROP TABLE figure_moves;
DROP INDEX reports_raters_idx;
