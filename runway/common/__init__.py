"""The bottom layer: small helpers several stages share. It imports no other runway module."""
