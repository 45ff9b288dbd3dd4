"""HTTP adapter: FastAPI app, REST under /api/v1, problem+json errors, auth."""
