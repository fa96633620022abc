"""The rules of the campaign as plain functions: no Flask, no HTTP."""
