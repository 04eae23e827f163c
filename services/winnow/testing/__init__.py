"""Test helpers shipped with the package: fixtures, sample events, model fixtures."""
