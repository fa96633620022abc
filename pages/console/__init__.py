"""The server-rendered console: organizers, admins, experts and departments in a browser."""
