"""Evaluation: linkage quality, utility, privacy and variable influence."""
