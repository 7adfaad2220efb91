"""Kafka transport: client settings, the embedded broker, and the Spark Python Data Source."""
