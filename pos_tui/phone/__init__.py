"""The phone as the laptop's camera and GPS: a small HTTPS page served while a QR code is
open, whose uploads go through the same intake as a file attached on the laptop.

Nothing here is imported at start-up: aiohttp, segno and cryptography come in when the
technician first opens a QR code (tests/unit/test_import_hygiene.py). See docs/phone.md.
"""
