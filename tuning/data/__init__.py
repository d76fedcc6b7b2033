"""Data: the dataset record; readers of Fashion-MNIST's files, .npz files and image folders; the cache; splits."""
