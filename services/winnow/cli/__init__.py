"""The command line: `main.py` mounts every command group."""
