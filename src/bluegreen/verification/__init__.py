"""Releases that verify themselves (issue 11): the hook's code, its package, its network
path and the alarms, for both engines."""
