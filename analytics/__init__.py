"""GridPatrol analytics package."""
