"""pos_tui: on-site acceptance of POS card terminals."""

__version__ = "0.1.0"
