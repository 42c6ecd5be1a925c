"""The knowledge base: versioned items with review and publishing, a search index in the table, verification dates."""
