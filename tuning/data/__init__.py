"""Fashion-MNIST: where the files are, their IDX/CSV formats, the parse cache, and train/validation splits."""
