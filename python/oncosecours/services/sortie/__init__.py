"""Sortie de crise: hand the register back to Chimio (re-entry), to billing (liste en sus), to the
reconciliation, to the ten-year archive, then close the crisis (the register is frozen)."""
