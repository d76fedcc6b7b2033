"""The search: run settings, spaces, sampler/pruner/study, storage, the objective, the worker loop and processes."""
