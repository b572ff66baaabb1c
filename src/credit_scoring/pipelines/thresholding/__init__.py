"""thresholding: calibrated PDs, a cost-optimal cut-off and a registered champion."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
