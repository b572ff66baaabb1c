"""credit_scoring
"""

__version__ = "0.1"
