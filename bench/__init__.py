"""Benchmarks, run by hand (`./dev bench`); never part of the tests."""
