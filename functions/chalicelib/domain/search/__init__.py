"""The customer list's ports (`ports.py`); the service is `domain/customer_list.py`."""
