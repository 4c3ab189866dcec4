"""rasd console."""
