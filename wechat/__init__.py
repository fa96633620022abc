"""WeChat integration: clients, callbacks, OAuth, QR codes, sending; `sandbox/` is a stand-in."""
