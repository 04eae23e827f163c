"""Kafka plumbing shared by the services: clients, topic administration, the embedded broker."""
