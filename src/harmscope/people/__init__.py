"""People, groups and behaviours: the harm attributed to nominals from force records.

Everything here reads personal data (pseudonymised force records) only through
:func:`harmscope.warehouse.personal.read_personal`, which refuses a read without a user and a
reason and writes the audit row first. See ``docs/people.md``.
"""
