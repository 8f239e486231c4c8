"""The pure core: order model, campaigns, conditions, engine, decisions.

Nothing in this package imports a platform SDK, a database driver, a web framework or a template
engine (``tests/test_architecture.py`` keeps it so). It reads no file and opens no socket at import.
"""
