"""Shared kernel: money, application errors, the audit trail, field encryption, masking,
request signing and the permission-checking workflow admin. Every other app may use it;
it uses none of them."""
