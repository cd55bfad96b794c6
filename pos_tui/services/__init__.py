"""Orchestration for the UI and the command line: no Textual, no Rich.

Services run the domain's commands, hand the results to the store, and do every disk
access on one background worker so that a screen never waits on a disk.
"""
