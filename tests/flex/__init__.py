"""Tests of the flexibility-event package."""
