"""Importing a company's own organization: validation, role-to-occupation links, the write."""
