"""Browser tests of the plan card on the development Home Assistant."""
