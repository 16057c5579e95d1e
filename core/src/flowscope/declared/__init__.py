"""Flows written by hand in YAML, for systems no collector covers yet."""
