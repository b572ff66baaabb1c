"""Batch scoring of new applicants with the champion: PD, score, decision, reasons, drift."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
