"""The read API over the listings and the marts (FastAPI), with its cache and web page."""
