"""After the search: export the best trial, retrain it, evaluate it once on the test set."""
