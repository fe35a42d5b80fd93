"""Benchmarks: each prints its figures; the README quotes them."""
