"""Home Assistant tests for hems."""
