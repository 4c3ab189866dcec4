"""The local development stack: Kafka and Redis on their own ports, and the rasd processes."""
