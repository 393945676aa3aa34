"""Thin routes: read the request, make the calls, render a template."""
