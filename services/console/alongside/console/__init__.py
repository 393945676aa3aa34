"""The web console: intake staff, programme managers and peers, on the services' public gRPC API."""
