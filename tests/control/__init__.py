"""Tests of the pure control modules: load settings and scheduling."""
