"""Errors the command line reports as `error: ...` without a traceback."""

from __future__ import annotations


class LeadScoringError(Exception):
    """An expected failure with a message for people and a hint what to do next."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class GenerateError(LeadScoringError, ValueError):
    """Invalid arguments or an unusable output folder for the generator."""


class LoadError(LeadScoringError):
    """A raw folder that cannot be loaded; nothing was written."""


class WarehouseError(LeadScoringError):
    """A built warehouse that cannot be opened or read (summary, report,
    calibrate)."""


class ReportError(LeadScoringError):
    """A funnel report that cannot be made: no warehouse, no marts, no plotly."""


class CalibrationError(LeadScoringError):
    """Calibration cannot run or would not be trustworthy; nothing was written."""


class NotEnoughOutcomesError(CalibrationError):
    """Too few leads with a judged outcome to calibrate on (yet)."""
