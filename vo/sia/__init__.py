"""SIA 2.0/1.0 image discovery, SODA, DataLink (L4; planned). Empty so far."""
