"""Domain core: no chalice and no boto3 imports (a unit test enforces it)."""
