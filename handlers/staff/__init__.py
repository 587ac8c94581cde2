"""Staff commands, one router per command group, composed in ``handlers/__init__.py``:

- :mod:`.journal` — ``/journal`` (pages, filters, a row in full, Resend, Stop this person),
  ``/resend``;
- :mod:`.stoplist` — ``/stoplist`` (pages, remove), add and remove typed;
- :mod:`.rules` — ``/rules`` (list, a rule's card, block, edit, copy, test, delete) and
  ``.toml`` imports; :mod:`.wizard` — the ``/rules new`` dialogue;
- :mod:`.templates` — ``/templates``;
- :mod:`.status` — ``/test``, ``/status``, ``/preview``;
- :mod:`.inbox` — ``/inbox``;
- :mod:`.refusal` — everyone else who tries a staff command.

Every staff router sits behind :class:`~handlers.filters.IsStaff`. Workflow data used:
``storage``, ``config``, ``senders``, ``clock``, ``control``, ``templates``; the wizard keeps
its dialogue in the FSM storage.
"""

from __future__ import annotations

from bot.services.control import DispatchControl
from handlers.staff.common import answer_long, lang_of

__all__ = ["DispatchControl", "answer_long", "lang_of"]
