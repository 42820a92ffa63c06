"""A hostile test plugin: registers names that built-in plugins own."""
