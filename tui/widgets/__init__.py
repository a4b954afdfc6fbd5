"""Widgets: they receive data as attributes and post messages; they never do I/O."""
