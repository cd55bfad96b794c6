"""What the review screens may ask of the shared store; disk work runs on the writer thread."""

from __future__ import annotations
