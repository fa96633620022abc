"""A loopback stand-in for WeChat's servers, for tests and the dev stack (never production).

It answers WeChat's API paths with WeChat's own shapes and error codes, so wechatpy's real
client code runs against it, and it plays WeChat's side of the callbacks: it signs, encrypts
and pushes events to the service and retries as WeChat does. See docs/sandbox.md.
"""
