"""The web pages: shared layout and components (layout.py, templates/, static/) and one package per audience
(`web.staff`: the staff console under /staff/)."""
