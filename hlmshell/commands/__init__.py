"""Command handlers, one module per family; see registry.py for the table."""
