"""Hook implementations of flowscope-emitters (placeholder)."""
