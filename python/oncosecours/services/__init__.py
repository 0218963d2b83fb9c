"""One function per user action: role check -> domain -> one store transaction -> audit event."""
