"""A PyTorch twin of d2v's data2vec 2.0 training step (see bench/pytorch/README.md)."""
