"""What pages call: each function takes the current user explicitly and checks ownership."""
