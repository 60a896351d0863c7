"""GridPatrol app package."""
