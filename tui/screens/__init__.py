"""Screens: they own the workers that call the client and the workflow."""
