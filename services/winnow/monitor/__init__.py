"""Data quality: window statistics, drift, expectation suites, alert rules and the dashboard."""
