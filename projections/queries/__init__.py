"""Read queries: plain SELECTs over the read tables that return plain rows.

Every query takes a `Basis`: the valid-time day (`as_of`, None for "now or any time")
and the record position (`position`, None for the current record). Together they answer
"what did the record say at position P about day D".
"""
