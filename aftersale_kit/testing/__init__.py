"""Test helpers shipped with the library: platform sandboxes and pytest fixtures."""
