"""Live fan-out of appended events: the bus between nodes, and each site's stream hub."""
