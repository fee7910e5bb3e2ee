"""Scripts that make the shipped artefacts from data: ``python -m tools.train_gate``."""
