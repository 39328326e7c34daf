"""Tests of the price-source library (custom_components.hems.prices)."""
