"""Client feedback: personal request links, the client's response, the ways requests are made, and the rate
limits (``rate_limits``) on the public links anyone can try."""
