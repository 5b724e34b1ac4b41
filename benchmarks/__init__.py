"""Benchmarks of Röd tråd at "Stockholm scale": see benchmarks/README.md."""
