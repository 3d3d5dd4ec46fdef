"""Domain logic of the inventory app; APIs, portal and commands call these. Writers are atomic."""
