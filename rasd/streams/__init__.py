"""rasd streams."""
