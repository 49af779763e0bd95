"""Residents' self-service: access codes and sessions, code-guess limiting, the shared service behind the
public JSON API (`api/routes/public.py`) and the server-rendered pages (`api/routes/resident_pages.py` for
making a complaint, `web/resident/` for following it)."""
