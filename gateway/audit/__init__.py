"""The audit trail (issue 17 item 2): every change to an access-controlled record, with who,
when, through which path, and each field's before and after value."""
