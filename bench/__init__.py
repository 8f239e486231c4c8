"""Benchmarks of aftersale-kit: ``python -m bench [NAME ...] [--write]`` (see ``__main__``)."""
