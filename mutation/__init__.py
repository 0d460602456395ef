"""Mutation testing of fieldstream: ``python -m mutation`` (see :mod:`mutation.run`, ``docs/testing.md``)."""
