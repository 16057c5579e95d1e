"""The table of a PHP-style ORM entity declared in a Hack/PHP file, so ``$em->persist($user)`` names it.

Doctrine maps a class by its annotations or attributes, written before the class: ``@ORM\\Table(name="users")``
or ``#[ORM\\Table(name: 'users')]`` names the table, a bare ``@ORM\\Entity`` / ``#[ORM\\Entity]`` means the
class's own name. (``#`` starts a comment in Hack, so attributes reach us as comments, as docblocks do.)
"""

from __future__ import annotations

import re

_TABLE = re.compile(r"""\bTable\s*\(\s*(?:name\s*[:=]\s*)?["'`]([\w.$]+)["'`]""")
_ENTITY = re.compile(r"(?:@|#\[\s*)(?:\\?(?:Doctrine\\ORM\\Mapping\\|ORM\\))?Entity\b")


def entity_table(name: str, before: str) -> str | None:
    """``name``'s table from the comments ``before`` its class; None: no entity."""
    found = _TABLE.search(before)
    if found:
        return found.group(1)
    if _ENTITY.search(before):
        return name
    return None
