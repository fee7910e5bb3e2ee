"""Synthetic inputs for the tests and the benchmarks: canvas drawings and phone-like photos.

Tests and benchmarks both draw from here, and this package imports neither of them.
"""
