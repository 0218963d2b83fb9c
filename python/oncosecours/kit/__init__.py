"""The offline emergency kit: what a hospital prepares in peacetime for a PC without network."""
