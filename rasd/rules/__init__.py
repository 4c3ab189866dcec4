"""rasd rules."""
