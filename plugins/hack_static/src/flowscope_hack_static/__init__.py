"""flowscope plugin hack_static: source-to-sink data flows in Hack, C++ and Python code."""
