"""Models: parameter defaults, builders from plain dicts, the training loop and its callbacks, TensorFlow set-up."""
