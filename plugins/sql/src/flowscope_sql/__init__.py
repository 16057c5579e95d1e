"""flowscope plugin sql: column-level lineage from SQL files, built on sqlglot."""
