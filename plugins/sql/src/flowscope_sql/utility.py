"""Statements sqlglot keeps as text (``exp.Command``): utility statements with no lineage, and the few with
lineage that are simple enough to read from the text (``RENAME TABLE``, Hive's ``EXCHANGE PARTITION``).

Anything else a user runs (a command word flowscope does not know) stays a problem, so lineage it might
hide is not silently lost.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from flowscope_sql.statements import Ddl, Unsupported, Write, writes_of

NO_LINEAGE_WORDS = frozenset(
    [
        "SHOW",
        "MSCK",
        "ADD",
        "LIST",
        "SET",
        "RESET",
        "VACUUM",
        "OPTIMIZE",
        "CALL",
        "EXEC",
        "EXECUTE",
        "ANALYZE",
        "REFRESH",
        "CACHE",
        "UNCACHE",
        "DESCRIBE",
        "DESC",
        "EXPLAIN",
        "COMMENT",
        "GRANT",
        "REVOKE",
        "DENY",
        "KILL",
        "LOCK",
        "UNLOCK",
        "FLUSH",
        "USE",
        "DECLARE",
        "PRINT",
        "TRUNCATE",
        "DROP",
        "CREATE",
        "ALTER",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "START",
        "END",
        "CHECKPOINT",
        "UNDROP",
        "CLUSTER",
        "REINDEX",
        "LISTEN",
        "NOTIFY",
        "DISCARD",
        "DEALLOCATE",
        "PREPARE",
        "FSCK",
        "REPAIR",
        "GO",
        "WAITFOR",
        "PUT",
        "GET",
        "REMOVE",
        "SYNC",
        "INVALIDATE",
        "COMPUTE",
        "UNLOAD",
        "RAISERROR",
        "THROW",
        "RETURN",
        "SAVEPOINT",
        "RELEASE",
        "ABORT",
        "CHECK",
    ]
)
_NAME = r"((?:[\w$#]+|`[^`]+`|\"[^\"]+\"|\[[^\]]+\])(?:\.(?:[\w$#]+|`[^`]+`|\"[^\"]+\"|\[[^\]]+\]))*)"
_RENAME = re.compile(rf"{_NAME}\s+TO\s+{_NAME}", re.I)
_EXCHANGE = re.compile(
    rf"^\s*TABLE\s+{_NAME}\s+EXCHANGE\s+PARTITION\s*\(.*?\)\s+WITH\s+TABLE\s+{_NAME}", re.I | re.S
)


def _table(name: str) -> exp.Table:
    return exp.to_table(name)


def command_lineage(cmd: exp.Command, dialect: str) -> Ddl | list[Write]:
    """What a statement kept as text means: renames, partition exchanges, MySQL's ``REPLACE INTO`` (an
    INSERT), or nothing; unknown words raise :class:`Unsupported`."""
    word = str(cmd.this or "").strip().upper()
    rest = cmd.expression.name if isinstance(cmd.expression, exp.Literal) else str(cmd.expression or "")
    first = word.split()[0] if word else ""
    if first == "REPLACE" and re.match(r"\s*INTO\b", rest, re.I):
        return writes_of(sqlglot.parse_one(f"INSERT {rest}", read=dialect))
    if first == "RENAME":  # RENAME TABLE a TO b[, c TO d] (MySQL, Teradata, Exasol)
        body = re.sub(r"^\s*TABLES?\s+", "", rest, flags=re.I)
        return Ddl(renames=[(_table(a), _table(b)) for a, b in _RENAME.findall(body)])
    if first == "ALTER":
        m = _EXCHANGE.match(rest)
        if m:  # the partition moves from the WITH table into the altered one
            return Ddl(renames=[(_table(m.group(2)), _table(m.group(1)))], exchange=True)
    if first in NO_LINEAGE_WORDS:
        return Ddl()
    raise Unsupported(f"unsupported statement {first or 'command'}", cmd.sql()[:60])
