"""rasd text."""
