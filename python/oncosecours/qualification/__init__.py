"""On-site qualification of a PC: installation (IQ), operation (OQ, with and without Excel), the
signed report, and the date of the last qualification shown by ``status`` and the Accueil sheet."""
