"""Python tooling around the lead_scoring dbt project.

The dbt project does the modelling; this package generates synthetic raw data,
loads raw files into a warehouse, and prints build summaries.
"""

__version__ = "0.1.0"
