"""Site security helpers: the LAN certificate authority, TLS certificates and QR codes."""
