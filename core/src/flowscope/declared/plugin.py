"""Hook implementations of the built-in ``declared`` plugin (placeholder until the collector lands)."""
