"""Gold for BI tools: the SQL endpoint (`eventlake serve-sql`), see docs/bi.md."""
