"""rasd notify."""
