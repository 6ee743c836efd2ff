"""Human validation (protocol.md section 6): annotators check that screenshots reflect the
value they were retrieved for and represent their videos; agreement statistics."""
