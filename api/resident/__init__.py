"""Residents' self-service: access tokens, token-guess limiting, the shared service behind the public JSON
API (`api/routes/public.py`) and the server-rendered pages (`api/routes/resident_pages.py`)."""
