"""Recalibration of the champion on backtested outcomes, as a new, validated, gated version."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
