"""What the tests and the benchmarks share: synthetic inputs (canvas drawings, phone-like photos) and the browser.

Tests and benchmarks both draw from here, and this package imports neither of them.
"""
