"""Local stand-ins for third-party services, served over real HTTP on 127.0.0.1 so the real
client libraries are exercised without the internet."""
