"""The web pages (no build step): landing, enrollment, join, resident, responder, operator
console, cards and registry, with their scripts, styles and service worker."""
