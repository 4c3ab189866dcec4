"""rasd connectors."""
