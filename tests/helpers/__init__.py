"""What tests and benchmarks share: constants, credentials, and real processes (wisdom, the double).

Importable without Django set up, except `tests.helpers.auth` (it mints tokens). Fixtures live in conftest.py.
"""
