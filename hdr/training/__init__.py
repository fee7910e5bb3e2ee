"""Learning: data sets, architectures, the training loop, model cards and background jobs."""
