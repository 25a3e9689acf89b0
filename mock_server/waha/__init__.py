"""The WAHA dialect, /api/{session}/labels...: its routes, X-Api-Key auth and error bodies."""
