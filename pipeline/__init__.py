"""Document pipeline for a university's integrity-risk control campaign (廉政风险防控)."""

__version__ = "0.1.0"
