"""A local Kafka + PostgreSQL + consumer stack for one machine (`omniclaude stack`); tests use it too."""
