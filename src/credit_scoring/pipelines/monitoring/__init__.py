"""Monitoring: the history of scored batches, its alerts, the backtest and a summary."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
