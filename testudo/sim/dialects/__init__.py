"""Wire dialects: each turns HTTP requests in an exchange's own format into engine calls."""
