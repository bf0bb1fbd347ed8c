"""Tools for starting and driving the portal from outside: tests, the benchmark and scripts (no Django import)."""
