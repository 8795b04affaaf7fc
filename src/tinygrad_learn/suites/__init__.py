"""The hidden test suites, one module per checkpoint, named in checkpoints.yaml."""
