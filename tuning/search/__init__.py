"""The search: run settings, spaces, engines, studies and storage, one trial, the worker loop and processes."""
