"""GridPatrol patrol package."""
