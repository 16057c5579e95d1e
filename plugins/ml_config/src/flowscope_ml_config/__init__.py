"""flowscope plugin ml_config: lineage from ML configs, read as data (no user code is ever executed)."""
