"""flowscope-datalogs: every user's own warehouse rows, exported in batches, verified, explained and zipped."""
