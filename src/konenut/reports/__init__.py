"""Reports drawn from the picture: the SITREP as a page, a PDF and a map image (no browser)."""
