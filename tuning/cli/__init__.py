"""The `tune` command line: commands, shared options and the terminal display.

Each command parses its options into a run or retrain configuration and calls the
same functions as the Python API (`tuning.api`).
"""
