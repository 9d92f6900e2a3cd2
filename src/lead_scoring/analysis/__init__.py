"""Analyses of built marts: explain, preview, report and calibrate."""
