"""Where a model is trained: the Lightning module, data loading, scaling and the trainer factory.

Importing this package imports torch and Lightning.
"""
