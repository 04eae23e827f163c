"""Personal data: detection, redaction and the planted-PII measurement corpus."""
