"""The event generator and `winnow demo`."""
