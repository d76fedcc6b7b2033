"""`python -m tuning`: the `tune` command."""

from tuning.cli.main import main

if __name__ == "__main__":  # spawned worker processes import this module too
    main()
