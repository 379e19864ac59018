"""Client feedback: personal request links, the client's response, and the ways requests are made."""
